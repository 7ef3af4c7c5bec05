"""Retention: a finished campaign's letters keep the facts they were made from (the
statement, the schools, the counts and figures), not the people named in them.

The PDFs themselves are not touched here: they are the record of what was sent, and
they move to the letter store (campaign/letters/store.py); deleting or keeping them
is that store's decision (see the README, "Retention")."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import defer

from campaign.extensions import db
from campaign.letters.models import Letter, RecipientKind

# Merge fields that name no person (parents' letters and MPs' letters, merge.py).
KEPT = {
    "title", "campaign_title", "association", "date", "reference", "public_url", "footer",
    "statement_markdown", "version_sha256", "kind", "school", "constituency",
    "signatory_count", "cosignatories", "cosignatories_limited", "pupils", "pupils_text",
    "figures", "summary",
}  # fmt: skip
# Within each school of an MP's letter: not "signed_by".
KEPT_PER_SCHOOL = {"name", "urn", "pupils", "pupils_text"}


def anonymised_merge(merge: dict) -> dict:
    """The merge data without the names of signatories, the sender, the MP or addresses."""
    kept = {key: value for key, value in merge.items() if key in KEPT}
    if "schools" in merge:
        kept["schools"] = [
            {key: value for key, value in school.items() if key in KEPT_PER_SCHOOL}
            for school in merge["schools"]
        ]
    kept["anonymised"] = True
    return kept


def anonymise_letters(campaign_ids: Collection[int]) -> int:
    """Anonymise the merge data of the campaigns' letters, and name an MP's letter by
    its constituency; how many letters changed. The caller commits."""
    if not campaign_ids:
        return 0
    changed = 0
    letters = db.session.scalars(
        select(Letter).where(Letter.campaign_id.in_(campaign_ids)).options(defer(Letter.pdf))
    )
    for letter in letters:
        if letter.merge.get("anonymised"):
            continue
        if letter.kind is RecipientKind.MP:
            letter.recipient_name = letter.merge.get("constituency", {}).get("name", "")
        letter.merge = anonymised_merge(letter.merge)
        changed += 1
    return changed
