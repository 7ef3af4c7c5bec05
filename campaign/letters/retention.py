"""Retention: a finished campaign's letters keep the facts they were made from (the
statement, the schools, the counts and figures), not the people named in them.

Their PDFs name people too (the head who signed, the parents' school address, the
MP), so they go from the letter store once the transaction that forgets them is
committed (`delete_pdfs`), with their print packs, and with any PDF no letter or
pack has used for a day (a letter rendered again, or a pack built again, leaves
its old file behind)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select

from campaign.extensions import db
from campaign.letters.models import Letter, PrintPack, RecipientKind, RenderChunk, RenderRun
from campaign.letters.packs import dao_pack_keys
from campaign.letters.store import letter_store

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


def anonymise_letters(campaign_ids: Collection[int], pdfs: set[str]) -> int:
    """Anonymise the merge data of the campaigns' letters, name an MP's letter by its
    constituency and let go of its PDF (its key is added to `pdfs`, for
    `delete_pdfs` once this is committed); how many letters changed. The caller commits."""
    if not campaign_ids:
        return 0
    # Renders' chunks hold the merge data they were planned with: they go.
    runs = select(RenderRun.id).where(RenderRun.campaign_id.in_(campaign_ids))
    db.session.execute(delete(RenderChunk).where(RenderChunk.run_id.in_(runs)))
    db.session.execute(delete(RenderRun).where(RenderRun.id.in_(runs)))
    # Print packs hold the letters whole: they go, with their files.
    packs = select(PrintPack.key, PrintPack.manifest_key).where(
        PrintPack.campaign_id.in_(campaign_ids)
    )
    pdfs.update(key for row in db.session.execute(packs) for key in row if key)
    db.session.execute(delete(PrintPack).where(PrintPack.campaign_id.in_(campaign_ids)))
    changed = 0
    letters = db.session.scalars(select(Letter).where(Letter.campaign_id.in_(campaign_ids)))
    for letter in letters:
        if letter.merge.get("anonymised"):
            continue
        if letter.kind is RecipientKind.MP:
            letter.recipient_name = letter.merge.get("constituency", {}).get("name", "")
        letter.merge = anonymised_merge(letter.merge)
        if letter.sha256:
            pdfs.add(letter.sha256)
            letter.sha256 = ""
        changed += 1
    return changed


def unused_pdfs(before: float) -> set[str]:
    """Files in the letter store that no letter or print pack holds, last written
    before `before`."""
    held = set(db.session.scalars(select(Letter.sha256).distinct())) | dao_pack_keys()
    return {key for key in letter_store().keys(before) if key not in held}


def delete_pdfs(keys: Collection[str]) -> int:
    """Delete from the store those of these PDFs that no letter or pack holds (two
    letters with the same bytes share one); how many went. Call after committing."""
    held = set(db.session.scalars(select(Letter.sha256).where(Letter.sha256.in_(keys))))
    held |= dao_pack_keys()
    gone = [key for key in keys if key not in held]
    store = letter_store()
    for key in gone:
        store.delete(key)
    return len(gone)
