"""`campaign letters`: render, check and pack a campaign's letters from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from campaign.drafting.cli import association_option, campaign_or_fail
from campaign.extensions import db
from campaign.formatting import plural
from campaign.letters import packs, steps
from campaign.letters.models import Audience, PackKind
from campaign.letters.runs import render_letters
from campaign.letters.services import LettersError, check_letters, dao_letters
from campaign.letters.store import letter_store

audience_option = click.option(
    "--audience", type=click.Choice(["parents", "mps"]), required=True, help="Whose letters."
)


def register_commands(app: Flask) -> None:
    app.cli.add_command(letters)


@click.group()
def letters() -> None:
    """Parent and MP letters."""


@letters.command("render")
@click.argument("campaign_slug")
@association_option
@audience_option
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), help="Also write the PDFs here."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_appcontext
def render_letters_command(
    campaign_slug: str, slug: str | None, audience: str, out_dir: str | None, as_json: bool
) -> None:
    """Render a campaign's letters for one audience (unchanged letters are skipped)."""
    campaign = campaign_or_fail(campaign_slug, slug)
    with click.progressbar(length=1, label="Rendering", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            summary = render_letters(campaign, Audience(audience), progress=progress)
        except LettersError as exc:
            raise click.ClickException(str(exc)) from None
    if out_dir:
        folder = Path(out_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for letter in dao_letters(campaign.id, Audience(audience)):
            name = letter.recipient.replace(":", "-")
            (folder / f"{name}.pdf").write_bytes(letter.pdf)
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
        return
    click.echo(
        f"{summary.total} letters: {summary.rendered} rendered, {summary.unchanged} unchanged "
        f"({summary.seconds:.1f} s)."
    )
    if summary.failing:
        click.echo(
            f"{plural(summary.failing, 'letter')} fail the mail-house check: "
            f"see `campaign letters check {campaign.slug} --audience {audience}`."
        )


@letters.command("check")
@click.argument("campaign_slug")
@association_option
@audience_option
@click.option("--json", "as_json", is_flag=True, help="Print every letter's result as JSON.")
@with_appcontext
def check_command(campaign_slug: str, slug: str | None, audience: str, as_json: bool) -> None:
    """Check every letter as a mail house would (GOV.UK Notify's rules); exit 1 if any fails."""
    campaign = campaign_or_fail(campaign_slug, slug)
    checked = check_letters(campaign, Audience(audience))
    db.session.commit()  # keep what the check found
    if not checked:
        raise click.ClickException("There are no letters: render them first.")
    failing = [letter for letter in checked if letter.problems]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "letters": len(checked),
                    "ready": len(checked) - len(failing),
                    "failing": [
                        {
                            "recipient": letter.recipient,
                            "name": letter.recipient_name,
                            "problems": letter.problems,
                        }
                        for letter in failing
                    ],
                }
            )
        )
    else:
        for letter in failing:
            click.echo(f"{letter.recipient_name} ({letter.recipient}):")
            for problem in letter.problems:
                click.echo(f"  - {problem}")
        if failing:
            click.echo(f"{plural(len(failing), 'letter')} of {len(checked):,} fail the check.")
        else:
            click.echo(f"{plural(len(checked), 'letter')} ready for the post.")
    if failing:
        sys.exit(1)


@letters.command("pack")
@click.argument("campaign_slug")
@association_option
@audience_option
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), required=True,
    help="The PDF to write; the manifest goes beside it with .csv.",
)  # fmt: skip
@with_appcontext
def pack_command(campaign_slug: str, slug: str | None, audience: str, out_file: str) -> None:
    """Write the print pack (the PDF the letters page offers) and its manifest CSV,
    building it first unless the one stored is made from the letters as they are."""
    campaign = campaign_or_fail(campaign_slug, slug)
    chosen = Audience(audience)
    letters = packs.dao_letter_keys(campaign.id, chosen)
    if not letters:
        raise click.ClickException("There are no letters: render them first.")
    steps.build_pack(campaign, chosen, PackKind.LETTERS, letters, in_background=False)
    pack = packs.dao_pack(campaign.id, chosen, PackKind.LETTERS)
    shown = packs.status(pack, lambda: letters)
    if shown.state == "failed":
        raise click.ClickException(shown.error)
    if not shown.current:
        raise click.ClickException(
            "A worker is building the print pack: try again once it is ready."
        )
    path, store = Path(out_file), letter_store()
    for key, target in ((pack.key, path), (pack.manifest_key, path.with_suffix(".csv"))):
        with target.open("wb") as out:
            for piece in store.stream(key):
                out.write(piece)
    click.echo(
        f"{plural(pack.letters, 'letter')}, {plural(pack.pages, 'page')}: {path} and "
        f"{path.with_suffix('.csv')}."
    )
