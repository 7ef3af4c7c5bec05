"""The statement's text: normalising, hashing, paragraphs, diffs and safe HTML."""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser

import pytest

from campaign.drafting import text


def test_normalising_ignores_line_endings_trailing_space_and_extra_blank_lines():
    a = "Title\r\n\r\n\r\nFirst paragraph.   \r\nSecond line.\r\n\r\n"
    b = "\nTitle\n\nFirst paragraph.\nSecond line."
    c = "Title\r\r\rFirst paragraph.\t\rSecond line.\n\n\n\n"
    expected = "Title\n\nFirst paragraph.\nSecond line."
    assert text.normalise(a) == text.normalise(b) == text.normalise(c) == expected


def test_normalising_keeps_what_changes_the_meaning():
    # Leading spaces make Markdown code blocks and nested lists; a single line
    # break inside a paragraph is the author's.
    assert text.normalise("    code") == "    code"
    assert text.normalise("One\nTwo") != text.normalise("One\n\nTwo")


def test_composed_and_decomposed_accents_are_the_same_text():
    composed, decomposed = "Caf\u00e9", "Cafe\u0301"
    assert text.normalise(composed) == text.normalise(decomposed)
    assert text.sha256(composed) == text.sha256(decomposed)


def test_the_hash_is_sha256_of_the_normalised_text_in_utf8():
    body = "Fair funding\r\n\r\n\u00a31,250,000 for SEND.  \r\n"
    expected = hashlib.sha256("Fair funding\n\n\u00a31,250,000 for SEND.".encode()).hexdigest()
    assert text.sha256(body) == expected
    assert len(expected) == 64
    assert text.sha256("Fair funding") != text.sha256("Fair funding.")


def test_paragraphs_split_on_blank_lines_only():
    body = "# Title\n\nLine one\nline two.\n\n\n\n- a\n- b\n"
    assert text.paragraphs(body) == ["# Title", "Line one\nline two.", "- a\n- b"]
    assert text.paragraphs("") == []
    assert text.paragraphs("   \n\n  \n") == []


def test_replace_paragraph_changes_exactly_one():
    body = "One.\n\nTwo.\n\nThree."
    assert text.paragraphs(text.replace_paragraph(body, 1, "Deux.  \r\n")) == [
        "One.",
        "Deux.",
        "Three.",
    ]
    for index in (-1, 3):
        with pytest.raises(IndexError):
            text.replace_paragraph(body, index, "Four.")


def rows(old: str, new: str) -> list[tuple]:
    return [(r.kind, r.old, r.new, r.old_number, r.new_number) for r in text.diff(old, new)]


def test_diff_of_identical_texts_is_all_same_even_with_other_line_endings():
    assert rows("A.\n\nB.", "A.\r\n\r\nB.\r\n") == [
        ("same", "A.", "A.", 1, 1),
        ("same", "B.", "B.", 2, 2),
    ]


def test_diff_shows_an_inserted_paragraph_and_renumbers_the_rest():
    assert rows("A.\n\nC.", "A.\n\nB.\n\nC.") == [
        ("same", "A.", "A.", 1, 1),
        ("added", None, "B.", None, 2),
        ("same", "C.", "C.", 2, 3),
    ]


def test_diff_shows_a_removed_paragraph():
    assert rows("A.\n\nB.\n\nC.", "A.\n\nC.") == [
        ("same", "A.", "A.", 1, 1),
        ("removed", "B.", None, 2, None),
        ("same", "C.", "C.", 3, 2),
    ]


def test_diff_pairs_changed_paragraphs_then_lists_the_extra_ones():
    assert rows("A.\n\nX.\n\nD.", "A.\n\nY.\n\nZ.\n\nD.") == [
        ("same", "A.", "A.", 1, 1),
        ("changed", "X.", "Y.", 2, 2),
        ("added", None, "Z.", None, 3),
        ("same", "D.", "D.", 3, 4),
    ]
    assert rows("A.\n\nX.\n\nY.", "A.\n\nZ.") == [
        ("same", "A.", "A.", 1, 1),
        ("changed", "X.", "Z.", 2, 2),
        ("removed", "Y.", None, 3, None),
    ]


def test_diff_from_and_to_an_empty_text():
    assert rows("", "A.\n\nB.") == [("added", None, "A.", None, 1), ("added", None, "B.", None, 2)]
    assert rows("A.", "") == [("removed", "A.", None, 1, None)]


class _Elements(HTMLParser):
    """Every start tag and its attributes, as a browser would see them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![pic](javascript:alert(1))",
    '![pic](https://evil.example/x.png "t")',
    '<img src=x onerror="alert(1)">',
    '<iframe src="https://evil.example"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<div style="background:url(javascript:alert(1))">x</div>',
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_markdown_cannot_run(hostile):
    html = str(text.to_html(f"Before.\n\n{hostile}\n\nAfter."))
    for tag, attrs in elements(html):
        assert tag in {"p", "a", "strong", "em"}, html
        assert not any(name.startswith("on") or name in ("style", "src") for name in attrs), html
        if tag == "a":
            assert attrs["href"].startswith(("http://", "https://", "mailto:")), html
    assert not any(raw in html.lower() for raw in ("<script", "<iframe", "<img", "<div")), html
    assert "Before." in html and "After." in html


def test_raw_html_is_shown_as_text_never_run():
    html = str(text.to_html('<img src=x onerror="alert(1)"> and <b>bold</b>'))
    assert elements(html) == [("p", {})]
    assert "&lt;img" in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_links_and_formatting_are_kept():
    html = str(
        text.to_html(
            "## Why\n\n**Bold**, *em*, [a link](https://example.org/x?a=1&b=2) "
            "and [mail us](mailto:office@example.org)\n\n- one\n- two"
        )
    )
    tags = elements(html)
    assert [t for t, _ in tags] == ["h2", "p", "strong", "em", "a", "a", "ul", "li", "li"]
    hrefs = [attrs["href"] for tag, attrs in tags if tag == "a"]
    assert hrefs == ["https://example.org/x?a=1&b=2", "mailto:office@example.org"]


def test_to_html_is_marked_safe_for_templates():
    from markupsafe import Markup

    assert isinstance(text.to_html("Hi"), Markup)


def test_a_huge_paste_is_refused_but_the_limit_itself_is_accepted():
    assert len(text.normalise("x" * text.MAX_LENGTH)) == 100_000
    with pytest.raises(text.StatementTooLong, match="100,001 characters.*limit is 100,000"):
        text.normalise("x" * 100_001)
    with pytest.raises(text.StatementTooLong):
        text.sha256("x" * 1_000_000)


def test_to_text_reads_as_plain_words_with_links_lists_and_headings():
    statement = (
        "# Fair funding\n\n"
        "We, the **heads** of *Essex*, ask for a [fair review](https://example.org/x?a=1&b=2).\n\n"
        "## What we ask\n\n"
        "- a real-terms rise\n- **no** cuts\n\n"
        "1. first\n2. second"
    )
    assert text.to_text(statement) == (
        "Fair funding\n"
        "============\n\n"
        "We, the heads of Essex, ask for a fair review (https://example.org/x?a=1&b=2).\n\n"
        "What we ask\n"
        "-----------\n\n"
        "- a real-terms rise\n- no cuts\n\n"
        "1. first\n2. second"
    )


def test_to_text_shows_an_address_once_when_the_words_are_the_address():
    assert text.to_text(
        "See <https://example.org/a> or [https://example.org/b](https://example.org/b)."
    ) == ("See https://example.org/a or https://example.org/b.")
    assert text.to_text(
        "Write to <office@example.org> or [the office](mailto:office@example.org)."
    ) == ("Write to office@example.org or the office (office@example.org).")
    assert text.to_text("[Our page](/public/a/b)") == "Our page (/public/a/b)"


def test_to_text_keeps_only_the_words_of_a_link_to_an_unsafe_address():
    for hostile in ("[click](javascript:alert(1))", "[click](JaVaScRiPt:alert(1))",
                    "[click](data:text/html;base64,PHNjcmlwdD4=)"):  # fmt: skip
        assert text.to_text(hostile) == "click"


def test_to_text_quotes_code_html_breaks_and_escapes():
    statement = (
        "> We **must** act.\n>\n> Now.\n\n"
        "Run `make check` &amp; \\*really\\* read it.\n"
        "Same paragraph, next line.  \nAfter a hard break.\n\n"
        "<div>raw block</div>\n\n"
        "Some <b>bold</b> words.\n\n"
        "3. third\n4. fourth\n\n"
        "- one\n  - nested\n- two\n\n"
        "---\n\n"
        "    code block"
    )
    assert text.to_text(statement) == (
        "    We must act.\n\n    Now.\n\n"
        "Run make check & *really* read it.\n"
        "Same paragraph, next line.\nAfter a hard break.\n\n"
        "Some bold words.\n\n"
        "3. third\n4. fourth\n\n"
        "- one\n  - nested\n- two\n\n"
        "* * *\n\n"
        "    code block"
    )


def test_to_text_separates_the_items_of_a_loose_list_by_blank_lines():
    assert text.to_text("- one\n\n- two\n\n  more") == "- one\n\n- two\n\n  more"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_to_text_leaves_no_markup_behind(hostile):
    plain = text.to_text(f"Before.\n\n{hostile}\n\nAfter.")
    assert "](" not in plain and "<" not in plain and "\\" not in plain, plain
    assert plain.startswith("Before.") and plain.endswith("After.")
