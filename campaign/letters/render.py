"""Turning merge data into letters: sandboxed Jinja templates from letters/, and
WeasyPrint with a fetcher that reaches nothing but letters/ and data: URIs.

Each letter is laid out on its own (so "Page 1 of 2" and the reference are its
own) with a stylesheet and font configuration shared by every letter a process
renders.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from campaign.config import PROJECT_ROOT

LETTERS_DIR = (PROJECT_ROOT / "letters").resolve()
BASE_URL = LETTERS_DIR.as_uri() + "/"
log = logging.getLogger(__name__)


class LettersFetcher(URLFetcher):
    """Serves files under letters/ and data: URIs; refuses everything else
    (http, https, other files, redirects), with a warning, so the letter still renders."""

    def __init__(self):
        super().__init__(timeout=5, allowed_protocols={"data"}, allow_redirects=False)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlparse(url).path)).resolve()
            if path.is_relative_to(LETTERS_DIR) and path.is_file():
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
        log.warning("A letter asked for %s, which is outside letters/: left out.", url)
        raise ValueError(f"Letters may only use files in letters/ and data: URIs, not {url}")


def css_string(value: str) -> Markup:
    """A value as a quoted CSS string inside a <style> element (page-margin content)."""
    escaped = (
        str(value)
        .replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("<", "\\3c ")
        .replace("\n", " ")
    )
    return Markup(f'"{escaped}"')  # noqa: S704  (escaped for CSS just above)


DEFAULT_ACCENT = "#1d3557"


def css_colour(value: str) -> str:
    """A #rrggbb colour for a stylesheet, or the default one if it is anything else."""
    return value if re.fullmatch(r"#[0-9a-fA-F]{6}", value or "") else DEFAULT_ACCENT


@cache
def templates() -> SandboxedEnvironment:
    """Templates the association may edit run sandboxed: no reaching into the app."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(LETTERS_DIR), autoescape=True, undefined=StrictUndefined
    )
    env.filters["css_string"] = css_string
    env.filters["css_colour"] = css_colour
    return env


def render_html(template: str, merge: dict) -> str:
    return templates().get_template(template).render(**{"stamped": False, **merge})


@cache
def _stylesheet() -> tuple[CSS, FontConfiguration]:
    fonts = FontConfiguration()
    css = CSS(
        filename=str(LETTERS_DIR / "print.css"),
        url_fetcher=LettersFetcher(),
        font_config=fonts,
    )
    return css, fonts


def _layout(html: str):
    css, fonts = _stylesheet()
    return HTML(string=html, base_url=BASE_URL, url_fetcher=LettersFetcher()).render(
        stylesheets=[css], font_config=fonts
    )


def render_pdf(html: str) -> bytes:
    """One letter as one PDF, tagged for screen readers (PDF/UA)."""
    return _layout(html).write_pdf(pdf_variant="pdf/ua-1")


@dataclass
class RenderedLetter:
    pdf: bytes
    pages: int


def render_batch(htmls: list[str]) -> list[RenderedLetter]:
    """Many letters with one shared stylesheet and font configuration, each
    written as its own tagged PDF.

    Measured on WeasyPrint 70 (2 cores): layout is most of the cost (about
    0.06 s a page), so writing a batch as one PDF and splitting it saved only
    ~5% and lost the tags that screen readers need; sharing the stylesheet and
    fonts, and spreading chunks over processes and workers (runs.py), is
    what pays.
    """
    letters = []
    for html in htmls:
        document = _layout(html)
        letters.append(
            RenderedLetter(document.write_pdf(pdf_variant="pdf/ua-1"), len(document.pages))
        )
    return letters
