"""The letters as email: HTML with inline styles and no remote images, and a plain
text alternative, both from the letter's stored merge data (so never at odds with the PDF)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from campaign.drafting.text import to_html, to_text
from campaign.letters.models import Letter
from campaign.letters.render import LETTERS_DIR, templates


@dataclass
class EmailBody:
    subject: str
    html: str
    text: str


@cache
def _text_templates() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(LETTERS_DIR), autoescape=False, undefined=StrictUndefined
    )


@lru_cache(maxsize=16)
def _statement_html(markdown: str) -> str:
    # Every letter of a campaign carries the same statement: convert it once.
    return to_html(markdown)


@lru_cache(maxsize=16)
def _statement_text(markdown: str) -> str:
    return to_text(markdown)


def email_body(letter: Letter, preface: str = "") -> EmailBody:
    """The letter as an email; `preface` is a short note above it (to the head who
    forwards it, for instance), shown apart from the letter itself."""
    merge = letter.merge
    html = (
        templates()
        .get_template("email.html")
        .render(
            **merge, statement_html=_statement_html(merge["statement_markdown"]), preface=preface
        )
    )
    text = (
        _text_templates()
        .get_template("email.txt")
        .render(
            **merge, statement_text=_statement_text(merge["statement_markdown"]), preface=preface
        )
    )
    return EmailBody(subject=merge["campaign_title"], html=html, text=text.strip() + "\n")
