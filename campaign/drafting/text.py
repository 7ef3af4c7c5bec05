"""The statement's text: normalising, hashing, paragraphs, safe HTML and diffs."""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

MAX_LENGTH = 100_000  # characters: about 30 pages, far beyond any joint statement

# Raw HTML is off: anything in angle brackets is shown as text, never run.
_markdown = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(
    ["table", "strikethrough", "replacements", "smartquotes"]
)
_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "h1", "h2", "h3",
    "h4", "hr", "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "s",
}  # fmt: skip


class StatementTooLong(ValueError):
    pass


def normalise(body: str) -> str:
    """One canonical form per text: NFC, LF line ends, no trailing spaces,
    single blank lines between paragraphs, no blank lines at either end."""
    text = unicodedata.normalize("NFC", body).replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    if len(text) > MAX_LENGTH:
        raise StatementTooLong(
            f"The statement is too long: {len(text):,} characters, and the limit is {MAX_LENGTH:,}."
        )
    return text


def sha256(body: str) -> str:
    return hashlib.sha256(normalise(body).encode("utf-8")).hexdigest()


def paragraphs(body: str) -> list[str]:
    """The blocks of a normalised text, split on blank lines."""
    return [p for p in normalise(body).split("\n\n") if p.strip()]


def replace_paragraph(body: str, index: int, text: str) -> str:
    blocks = paragraphs(body)
    if not 0 <= index < len(blocks):
        raise IndexError(f"There is no paragraph {index + 1}.")
    blocks[index] = normalise(text)
    return "\n\n".join(blocks)


def to_html(markdown: str) -> Markup:
    """Markdown rendered and sanitised: no scripts, no raw HTML, only safe links."""
    html = _markdown.render(markdown)
    clean = nh3.clean(html, tags=_ALLOWED_TAGS, url_schemes={"http", "https", "mailto"})
    return Markup(clean)  # noqa: S704  (sanitised just above)


@dataclass
class DiffRow:
    kind: str  # "same", "removed", "added" or "changed"
    old: str | None
    new: str | None
    old_number: int | None
    new_number: int | None


def diff(old_body: str, new_body: str) -> list[DiffRow]:
    """A paragraph-level comparison of two texts, row by row, for side-by-side display."""
    old, new = paragraphs(old_body), paragraphs(new_body)
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [
                DiffRow("same", old[i], new[j], i + 1, j + 1)
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        olds, news = list(range(i1, i2)), list(range(j1, j2))
        for k in range(max(len(olds), len(news))):
            i = olds[k] if k < len(olds) else None
            j = news[k] if k < len(news) else None
            kind = (
                "changed"
                if i is not None and j is not None
                else ("removed" if j is None else "added")
            )
            rows.append(
                DiffRow(
                    kind,
                    old[i] if i is not None else None,
                    new[j] if j is not None else None,
                    i + 1 if i is not None else None,
                    j + 1 if j is not None else None,
                )
            )
    return rows
