"""Letters as parents, MPs and mail houses open them: qpdf, Ghostscript, pdfium
(Chrome's viewer), poppler, and GOV.UK Notify's page-1 zones."""

from __future__ import annotations

import io

import pikepdf
import pypdfium2
import pytest
from sqlalchemy import select

from campaign.demo import load_demo
from campaign.drafting.models import Campaign
from campaign.extensions import db
from campaign.letters import checks, render, stamp, steps
from campaign.letters.models import Audience, PackKind
from campaign.letters.packs import dao_letter_keys, dao_pack
from campaign.letters.runs import render_letters
from campaign.letters.services import dao_letters
from campaign.letters.store import letter_store
from tests.letters import viewers
from tests.letters.test_render import merge

SEVEN_LINES = [
    "Grace Vaughan, Principal", "Saxon High School", "Unit 4, The Business Park",
    "141 Station Way", "Pitsea", "Basildon", "SS14 1AA",
]  # fmt: skip


def many_schools(n: int) -> list[dict]:
    names = [f"School number {i} of the county" for i in range(n)]
    return [{"local_authority": "Essex", "schools": names[: n // 2]},
            {"local_authority": "Thurrock", "schools": names[n // 2 :]}]  # fmt: skip


def test_every_demo_letter_and_both_print_packs_open_in_every_viewer(app, tmp_path):
    load_demo(with_signoff=True)
    campaign = db.session.scalar(select(Campaign))
    pdfs, packs = {}, {}
    for audience in Audience:
        summary = render_letters(campaign, audience, processes=1)
        assert summary.total > 0 and summary.failing == 0
        letters = dao_letters(campaign.id, audience)
        assert all(letter.problems == [] for letter in letters)
        pdfs |= {f"{audience.value}-{letter.recipient}": letter.pdf for letter in letters}
        keys = dao_letter_keys(campaign.id, audience)
        steps.build_pack(campaign, audience, PackKind.LETTERS, keys, in_background=False)
        stored = dao_pack(campaign.id, audience, PackKind.LETTERS)
        pack = letter_store().get(stored.key)
        expected = sum(letter.pages + letter.pages % 2 for letter in letters)
        assert len(pikepdf.open(io.BytesIO(pack)).pages) == expected
        packs[f"{audience.value}-print-pack"] = pack
    assert len(pdfs) > 60  # the demo: ~70 signing schools and their MPs
    viewers.assert_opens_everywhere(pdfs, tmp_path / "letters")
    viewers.assert_opens_everywhere(packs, tmp_path / "packs", letters=False)


def test_a_stamped_batch_of_500_opens_in_every_viewer(tmp_path):
    merges = [merge(i, address_lines=SEVEN_LINES[: 3 + i % 5] + ["SS14 1AA"]) for i in range(500)]
    letters = stamp.render_stamped("parents.html", merges)
    pdfs = {f"stamped-{i}": letter.pdf for i, letter in enumerate(letters)}
    viewers.assert_opens_everywhere(pdfs, tmp_path)


@pytest.mark.parametrize("stamped", [True, False], ids=["stamped", "laid-out"])
def test_a_seven_line_address_and_150_cosignatories_open_in_every_viewer(tmp_path, stamped):
    letters = {
        "seven-lines": merge(address_lines=SEVEN_LINES),
        "150-schools": merge(cosignatories=many_schools(150), signatory_count=150),
    }
    if stamped:
        pdfs = {k: stamp.render_stamped("parents.html", [m])[0].pdf for k, m in letters.items()}
    else:
        html = {k: render.render_html("parents.html", m) for k, m in letters.items()}
        pdfs = {k: render.render_pdf(h) for k, h in html.items()}
    assert len(pikepdf.open(io.BytesIO(pdfs["150-schools"])).pages) >= 2
    viewers.assert_opens_everywhere(pdfs, tmp_path)
    # All seven lines are in the window, in order.
    page = pypdfium2.PdfDocument(pdfs["seven-lines"])[0]
    assert checks._window_lines(page.get_textpage(), page.get_height()) == SEVEN_LINES


def test_stamped_text_is_read_in_order_address_first_signer_after_the_statement(tmp_path):
    [letter] = stamp.render_stamped("parents.html", [merge()])
    path = tmp_path / "letter.pdf"
    path.write_bytes(letter.pdf)
    tagged = viewers.run("pdfinfo", "-struct-text", str(path)).stdout
    order = [tagged.index(words) for words in (
        "Essex Heads", "Grace Vaughan, Principal", "Dear Parents and Carers",
        "We ask for fair funding", "Yours faithfully", "Principal, School 1",
        "The schools that signed",
    )]  # fmt: skip
    assert order == sorted(order), tagged
