"""Parent letters are rendered in batches of letters that share a body, so each
distinct body (one per local authority above the co-signatory limit) is laid out
once, not once for nearly every letter."""

from __future__ import annotations

import io

from pypdf import PdfReader

from campaign.extensions import db
from campaign.letters.models import Audience
from campaign.letters.runs import render_letters
from campaign.letters.services import batches, build_merges, dao_letters
from campaign.letters.stamp import body_key


def _todo(n: int) -> list[tuple[str, dict, str]]:
    """n letters whose URNs alternate between two authorities' bodies."""
    return [
        (f"school:{900000 + i}", {"cosignatories": f"LA {i % 2}", "school": {"urn": i}}, "")
        for i in range(n)
    ]


def test_batches_hold_one_body_each_where_the_letters_allow():
    todo = _todo(8)
    chunks = batches(todo, 4)
    assert [len({body_key(m) for _, m, _ in chunk}) for chunk in chunks] == [1, 1]
    assert sorted(r for chunk in chunks for r, _, _ in chunk) == sorted(r for r, _, _ in todo)
    # By recipient, each batch of 4 would have held both bodies.
    by_recipient = [todo[i : i + 4] for i in range(0, 8, 4)]
    assert [len({body_key(m) for _, m, _ in c}) for c in by_recipient] == [2, 2]


def test_a_body_larger_than_a_batch_fills_batches_of_its_own():
    chunks = batches(_todo(10), 3)
    assert [len(chunk) for chunk in chunks] == [3, 3, 3, 1]
    assert [len({body_key(m) for _, m, _ in chunk}) for chunk in chunks] == [1, 2, 1, 1]


def test_letters_above_the_cosignatory_limit_render_by_body_and_each_is_its_own(signed):
    signed.campaign.association.cosignatory_limit = 1  # each authority's letters list only it
    db.session.commit()
    merges = build_merges(signed.campaign, Audience.PARENTS)
    assert len({body_key(m) for m in merges.values()}) == 2
    summary = render_letters(signed.campaign, Audience.PARENTS, processes=1, batch=2)
    assert summary.rendered == 2
    texts = {
        letter.recipient_name: " ".join(
            PdfReader(io.BytesIO(letter.pdf)).pages[0].extract_text().split()
        )
        for letter in dao_letters(signed.campaign.id, Audience.PARENTS)
    }
    # Each school's letter is its own (its signer) on its own authority's body.
    assert "Thurrock School" not in texts["Saxon High"]
    assert "Saxon High" not in texts["Thurrock School"]
