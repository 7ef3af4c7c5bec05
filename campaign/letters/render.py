"""Turning merge data into letters: sandboxed Jinja templates from letters/, and
WeasyPrint with a fetcher that reaches nothing but letters/ and data: URIs.

Rendering many letters at once is the fast path: each letter is laid out on its
own (so "Page 1 of 2" and the reference are its own), the pages of a batch are
written as one PDF (fonts are subset once per batch, which is most of the cost),
and the PDF is split back into one file per letter by page ranges.
"""

from __future__ import annotations

import io
import logging
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from pypdf import PdfReader, PdfWriter
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


@cache
def templates() -> SandboxedEnvironment:
    """Templates the association may edit run sandboxed: no reaching into the app."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(LETTERS_DIR), autoescape=True, undefined=StrictUndefined
    )
    env.filters["css_string"] = css_string
    return env


def render_html(template: str, merge: dict) -> str:
    return templates().get_template(template).render(**merge)


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
    """Many letters: laid out one by one, written as one PDF, split per letter."""
    documents = [_layout(html) for html in htmls]
    pages = [page for document in documents for page in document.pages]
    combined = documents[0].copy(pages).write_pdf()
    reader = PdfReader(io.BytesIO(combined))
    letters, start = [], 0
    for document in documents:
        count = len(document.pages)
        writer = PdfWriter()
        for index in range(start, start + count):
            writer.add_page(reader.pages[index])
        meta = document.metadata
        writer.add_metadata({"/Title": meta.title or "", "/Author": ", ".join(meta.authors)})
        if meta.lang:
            writer._root_object[_name("/Lang")] = _text(meta.lang)
        out = io.BytesIO()
        writer.write(out)
        letters.append(RenderedLetter(out.getvalue(), count))
        start += count
    return letters


def _name(value: str):
    from pypdf.generic import NameObject

    return NameObject(value)


def _text(value: str):
    from pypdf.generic import TextStringObject

    return TextStringObject(value)
