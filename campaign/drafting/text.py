"""The statement's text: normalising, hashing, paragraphs, safe HTML, plain text and diffs."""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
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
_SAFE_SCHEMES = ("http:", "https:", "mailto:")

# The same Markdown for plain text, except that raw HTML is parsed so that it can be
# dropped, and every link is parsed as a link so that no brackets are left showing
# (a link to an unsafe address keeps only its words).
_text_markdown = MarkdownIt("commonmark", {"html": True, "typographer": True}).enable(
    ["table", "strikethrough", "replacements", "smartquotes"]
)
_text_markdown.validateLink = lambda url: True


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


def to_text(markdown: str) -> str:
    """Markdown as plain text a reader can read: no markup left, links as "text (url)",
    lists as "- item" or "1. item", quotes indented, the author's line breaks kept."""
    root = SyntaxTreeNode(_text_markdown.parse(markdown))
    return _blocks(root.children, "\n\n").strip("\n")


def _blocks(nodes: list[SyntaxTreeNode], gap: str) -> str:
    return gap.join(part for part in (_block(node) for node in nodes) if part)


def _indent(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    return "\n".join([first + lines[0]] + [rest + line if line else "" for line in lines[1:]])


def _block(node: SyntaxTreeNode) -> str:
    if node.type == "paragraph":
        return _inline(node.children[0])
    if node.type == "heading":
        words = _inline(node.children[0])
        rule = {"h1": "=", "h2": "-"}.get(node.tag)
        return f"{words}\n{rule * len(words)}" if rule and words else words
    if node.type in ("bullet_list", "ordered_list"):
        # In a tight list the paragraphs are hidden: one item a line, not a blank between.
        tight = any(c.hidden for item in node.children for c in item.children)
        gap = "\n" if tight else "\n\n"
        start = int(node.attrs.get("start", 1))
        items = []
        for number, item in enumerate(node.children, start):
            marker = "- " if node.type == "bullet_list" else f"{number}. "
            items.append(_indent(_blocks(item.children, gap), marker, " " * len(marker)))
        return gap.join(items)
    if node.type == "blockquote":
        return _indent(_blocks(node.children, "\n\n"), "    ", "    ")
    if node.type in ("fence", "code_block"):
        return _indent(node.content.rstrip("\n"), "    ", "    ")
    if node.type == "hr":
        return "* * *"
    if node.type == "table":
        rows = [row for part in node.children for row in part.children]
        return "\n".join(
            " | ".join(_inline(cell.children[0]) for cell in row.children) for row in rows
        )
    if node.type == "html_block":
        return ""
    return _blocks(node.children, "\n\n")


def _inline(node: SyntaxTreeNode) -> str:
    parts = []
    for child in node.children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "html_inline":
            continue
        elif child.type == "link":
            parts.append(_link(_inline(child), str(child.attrs["href"])))
        else:  # strong, em, s, an image's description: their words
            parts.append(_inline(child))
    return "".join(parts)


def _link(words: str, href: str) -> str:
    if not href.lower().startswith(_SAFE_SCHEMES) and ":" in href.split("/", 1)[0]:
        return words  # javascript: and the like: the words only, never the address
    shown = href[7:] if href[:7].lower() == "mailto:" else href
    if not words or words in (shown, _text_markdown.normalizeLinkText(shown)):
        return words or shown
    return f"{words} ({shown})"


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
