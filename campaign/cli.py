"""The `campaign` command: Flask's own commands plus the association's."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from campaign import create_app
from campaign.consultation.summary import campaign_facts
from campaign.directory import services
from campaign.directory.csvfile import ImportRefused, ImportSummary
from campaign.directory.mps import (
    MembersApiClient,
    MembersApiError,
    import_mps,
    packaged_results,
    refresh_mps,
)
from campaign.directory.register import import_register
from campaign.directory.roster import import_roster
from campaign.extensions import db


@click.group(cls=FlaskGroup, create_app=create_app)
def main() -> None:
    """Run the headteachers' association campaign toolkit."""


def _association(slug: str):
    association = services.association_by_slug(slug)
    if association is None:
        raise click.ClickException(f'No association has the slug "{slug}".')
    return association


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"Cannot read {path}: {exc.strerror}.") from None


def _finish(run, as_json: bool) -> ImportSummary:
    """Run an import in one transaction; print its summary; exit 1 if refused."""
    try:
        summary = run()
    except ImportRefused as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc} Nothing was imported.") from None
    db.session.commit()
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    else:
        click.echo(
            f"Read {summary.read} rows: {summary.added} added, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {summary.skipped} skipped, "
            f"{len(summary.rejected)} rejected."
        )
        for rejection in summary.rejected:
            click.echo(f"  line {rejection['line']}: {rejection['reason']}", err=True)
        for note in summary.notes:
            click.echo(f"  line {note['line']}: {note['note']}", err=True)
    return summary


@main.group()
def associations() -> None:
    """Create associations."""


@associations.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The association's name, as letters show it.")
@click.option("--lead", "lead_email", required=True, help="Email of the association's lead.")
@with_appcontext
def create_association(slug: str, name: str, lead_email: str) -> None:
    """Create an association and its first lead."""
    try:
        association = services.create_association(slug, name, lead_email)
    except (services.AssociationExists, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {association.name} ({association.slug}) with lead {lead_email}.")


@main.group()
def schools() -> None:
    """The schools register."""


@schools.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--association", "slug", required=True)
@click.option("--phase", help='Only this phase of education, e.g. "Secondary".')
@click.option("--la", "las", multiple=True, help="Only this local authority (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_appcontext
def import_schools(file: str, slug: str, phase: str | None, las: tuple, as_json: bool) -> None:
    """Import member schools from a GIAS download (CSV)."""
    association, data = _association(slug), _read(file)
    _finish(lambda: import_register(association, data, phase=phase, local_authorities=las), as_json)


@main.group()
def members() -> None:
    """The association's roster of heads."""


@members.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--association", "slug", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_appcontext
def import_members(file: str, slug: str, as_json: bool) -> None:
    """Import heads from a roster CSV: URN, School, Head name, Email, Role."""
    association, data = _association(slug), _read(file)
    _finish(lambda: import_roster(association, data), as_json)


@main.group()
def mps() -> None:
    """Constituencies and their MPs."""


@mps.command("import")
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_appcontext
def import_mps_command(file: str | None, as_json: bool) -> None:
    """Import MPs from a results CSV (default: the 2024 file shipped with the package)."""
    data = _read(file) if file else packaged_results()
    _finish(lambda: import_mps(data), as_json)


@mps.command("refresh")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_appcontext
def refresh_mps_command(as_json: bool) -> None:
    """Update MPs' names, parties and emails from Parliament's Members API."""
    client = MembersApiClient(current_app.config["PARLIAMENT_API_URL"])
    try:
        summary = refresh_mps(client)
    except MembersApiError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc} Nothing was changed.") from None
    db.session.commit()
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    else:
        click.echo(f"Matched {summary.matched} MPs; updated {summary.updated}.")
        for name in summary.unmatched or []:
            click.echo(f"  no constituency matches {name!r}", err=True)


@main.group()
def campaigns() -> None:
    """Campaigns and their consultations."""


@campaigns.command("list")
@click.option("--association", "slug", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def list_campaigns(slug: str, as_json: bool) -> None:
    """The association's campaigns, newest first."""
    from campaign.drafting.services import dao_campaigns

    found = [campaign_facts(c) for c in dao_campaigns(_association(slug).id)]
    if as_json:
        click.echo(json.dumps(found))
        return
    for c in found:
        click.echo(f"{c['slug']}  {c['state']}  version {c['version'] or '-'}  {c['title']}")


@campaigns.command("show")
@click.argument("campaign_slug")
@click.option("--association", "slug", help="Needed only if two associations use the slug.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def show_campaign(campaign_slug: str, slug: str | None, as_json: bool) -> None:
    """State, current version and hash, tally and evidence counts of one campaign."""
    facts = campaign_facts(_campaign(campaign_slug, slug))
    if as_json:
        click.echo(json.dumps(facts))
        return
    for key, value in facts.items():
        click.echo(f"{key}: {value}")


@main.group()
def signoff() -> None:
    """Sign-off of a campaign's final text."""


def _campaign(campaign_slug: str, slug: str | None):
    from sqlalchemy import select

    from campaign.drafting.models import Campaign

    stmt = select(Campaign).where(Campaign.slug == campaign_slug)
    if slug:
        stmt = stmt.where(Campaign.association_id == _association(slug).id)
    found = db.session.scalars(stmt).all()
    if not found:
        raise click.ClickException(f'No campaign has the slug "{campaign_slug}".')
    if len(found) > 1:
        raise click.ClickException("Several associations use that slug: add --association.")
    return found[0]


@signoff.command("open")
@click.argument("campaign_slug")
@click.option("--association", "slug")
@with_appcontext
def signoff_open(campaign_slug: str, slug: str | None) -> None:
    """Freeze the current version, open sign-off and invite every head."""
    from campaign.drafting.models import IllegalTransition
    from campaign.signoff import services as signoff_services
    from campaign.signoff import tasks as signoff_tasks

    campaign = _campaign(campaign_slug, slug)
    try:
        user_ids = signoff_services.freeze(campaign, None)
    except (IllegalTransition, signoff_services.SignOffError) as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    for user_id in user_ids:
        signoff_tasks.send_invitation(campaign.id, user_id)
    click.echo(
        f"Version {campaign.frozen_version.number} frozen; inviting {len(user_ids)} heads to sign."
    )


@signoff.command("close")
@click.argument("campaign_slug")
@click.option("--association", "slug")
@with_appcontext
def signoff_close(campaign_slug: str, slug: str | None) -> None:
    """Close sign-off: the signatures become final."""
    from campaign.drafting.models import IllegalTransition
    from campaign.signoff import services as signoff_services

    campaign = _campaign(campaign_slug, slug)
    try:
        signoff_services.close(campaign, None)
    except IllegalTransition as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo("Sign-off closed.")


@signoff.command("status")
@click.argument("campaign_slug")
@click.option("--association", "slug")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def signoff_status(campaign_slug: str, slug: str | None, as_json: bool) -> None:
    """Signed, declined and unanswered counts, the text's hash and the signatories."""
    from campaign.signoff.summary import status

    facts = status(_campaign(campaign_slug, slug))
    if as_json:
        click.echo(json.dumps(facts))
        return
    click.echo(
        f"{facts['signed']} signed, {facts['declined']} declined, {facts['no_answer']} no answer; "
        f"text {facts['version_sha256']}"
    )


def _register_commands() -> None:
    from campaign.delivery.cli import dev_events_command, send_command
    from campaign.letters.cli import letters

    main.add_command(letters)
    main.add_command(send_command)
    main.add_command(dev_events_command)


_register_commands()


@main.command()
@click.option(
    "--with-consultation", is_flag=True, help="Also simulate a consultation round (once)."
)
@click.option(
    "--with-signoff", is_flag=True, help="Also simulate consultation and sign-off (once)."
)
@with_appcontext
def demo(with_consultation: bool, with_signoff: bool) -> None:
    """Create or refresh the demo association and print sign-in links."""
    from campaign.demo import load_demo

    for line in load_demo(with_consultation=with_consultation, with_signoff=with_signoff):
        click.echo(line)


@main.command()
@click.option("--workers", default=2, show_default=True)
@with_appcontext
def worker(workers: int) -> None:
    """Run the background task consumer (Huey) for this app."""
    from huey.consumer import Consumer

    from campaign import tasks
    from campaign.extensions import huey

    # Every task module is imported by its blueprint, so create_app registered them all.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    tasks.set_worker_app(current_app._get_current_object())
    # Poll at least once a second: a sign-in link should arrive while the person waits.
    Consumer(huey, workers=workers, worker_type="thread", max_delay=1.0).run()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
