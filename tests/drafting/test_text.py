"""The statement's text: versions, hashes, diffs, sanitising, and the state machine."""

from __future__ import annotations

import hashlib
from itertools import product

import pytest

from campaign.drafting import text
from campaign.drafting.models import TRANSITIONS, Campaign, CampaignState, IllegalTransition
from campaign.drafting.services import TextFrozen, create_campaign, save_statement
from tests.factories import make_association


def test_normalising_ignores_line_endings_trailing_space_and_extra_blank_lines():
    a = "Title\r\n\r\n\r\nFirst paragraph.   \r\nSecond line.\r\n\r\n"
    b = "\nTitle\n\nFirst paragraph.\nSecond line."
    assert text.normalise(a) == text.normalise(b) == "Title\n\nFirst paragraph.\nSecond line."
    assert text.sha256(a) == hashlib.sha256(b"Title\n\nFirst paragraph.\nSecond line.").hexdigest()


def test_versions_are_numbered_and_unchanged_text_makes_none(app):
    campaign = create_campaign(make_association(), "Fair funding", body="One.\n\nTwo.")
    assert [v.number for v in campaign.versions] == [1]
    assert save_statement(campaign, "One.\r\n\r\nTwo.\r\n", None) is None
    second = save_statement(campaign, "One.\n\nTwo, changed.", None)
    assert second.number == 2
    assert second.sha256 == hashlib.sha256(b"One.\n\nTwo, changed.").hexdigest()
    assert save_statement(campaign, "One.\n\nTwo.", None).number == 3  # going back is a change


def test_text_is_frozen_from_sign_off(app):
    campaign = create_campaign(make_association(), "Fair funding", body="One.")
    campaign.state = CampaignState.SIGNOFF
    with pytest.raises(TextFrozen, match="frozen while the campaign is in sign-off"):
        save_statement(campaign, "Two.", None)


def test_diff_of_known_texts():
    old = "Intro.\n\nKeep me.\n\nDrop me.\n\nChange me."
    new = "Intro.\n\nKeep me.\n\nChanged you.\n\nBrand new."
    rows = [(r.kind, r.old, r.new, r.old_number, r.new_number) for r in text.diff(old, new)]
    assert rows == [
        ("same", "Intro.", "Intro.", 1, 1),
        ("same", "Keep me.", "Keep me.", 2, 2),
        ("changed", "Drop me.", "Changed you.", 3, 3),
        ("changed", "Change me.", "Brand new.", 4, 4),
    ]
    added = text.diff("A.", "A.\n\nB.")
    assert [(r.kind, r.new_number) for r in added] == [("same", 1), ("added", 2)]
    removed = text.diff("A.\n\nB.", "B.")
    assert [(r.kind, r.old, r.new) for r in removed] == [
        ("removed", "A.", None),
        ("same", "B.", "B."),
    ]


def test_replace_paragraph_changes_exactly_one():
    body = "One.\n\nTwo.\n\nThree."
    assert text.paragraphs(text.replace_paragraph(body, 1, "Deux.")) == ["One.", "Deux.", "Three."]
    with pytest.raises(IndexError):
        text.replace_paragraph(body, 3, "Four.")


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        '<img src=x onerror="alert(1)">',
        '<iframe src="https://evil.example"></iframe>',
        "[x](vbscript:msgbox(1))",
        '<a href="javascript:alert(1)">x</a>',
    ],
)
def test_hostile_markdown_cannot_run(hostile):
    html = str(text.to_html(f"Before.\n\n{hostile}\n\nAfter."))
    assert "<script" not in html and "<iframe" not in html and "<img" not in html
    assert 'href="javascript' not in html and 'href="vbscript' not in html
    assert "Before." in html and "After." in html


def test_links_and_formatting_are_kept():
    html = str(text.to_html("**Bold** and [a link](https://example.org/x) and <b>raw</b>"))
    assert "<strong>Bold</strong>" in html
    assert 'href="https://example.org/x"' in html
    assert "&lt;b&gt;raw&lt;/b&gt;" in html  # raw HTML is shown, never run


def test_a_huge_paste_is_refused():
    with pytest.raises(text.StatementTooLong, match="limit is 100,000"):
        text.normalise("x" * 1_000_000)


STATES = list(CampaignState)


@pytest.mark.parametrize(("start", "end"), list(product(STATES, STATES)))
def test_every_transition_is_allowed_or_refused_as_designed(start, end):
    campaign = Campaign(state=start)
    if end in TRANSITIONS[start]:
        campaign.move_to(end)
        assert campaign.state is end
    else:
        with pytest.raises(IllegalTransition, match=f"cannot move to {end.label.lower()}"):
            campaign.move_to(end)
        assert campaign.state is start


def test_the_transition_map_is_the_designed_lifecycle():
    allowed = {(a.value, b.value) for a, ends in TRANSITIONS.items() for b in ends}
    assert allowed == {
        ("draft", "consultation"),
        ("consultation", "draft"),
        ("consultation", "signoff"),
        ("signoff", "consultation"),
        ("signoff", "closed"),
        ("closed", "sent"),
    }
