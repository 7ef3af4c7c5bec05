"""`campaign associations|schools|members|mps`: the directory from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

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


def register_commands(app: Flask) -> None:
    for group in (associations, schools, members, mps):
        app.cli.add_command(group)


def association_or_fail(slug: str):
    association = services.association_by_slug(slug)
    if association is None:
        raise click.ClickException(f'No association has the slug "{slug}".')
    return association


def read_or_fail(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"Cannot read {path}: {exc.strerror}.") from None


def finish_import(run, as_json: bool) -> ImportSummary:
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


@click.group()
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


@click.group()
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
    association, data = association_or_fail(slug), read_or_fail(file)
    finish_import(
        lambda: import_register(association, data, phase=phase, local_authorities=las), as_json
    )


@click.group()
def members() -> None:
    """The association's roster of heads."""


@members.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--association", "slug", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_appcontext
def import_members(file: str, slug: str, as_json: bool) -> None:
    """Import heads from a roster CSV: URN, School, Head name, Email, Role."""
    association, data = association_or_fail(slug), read_or_fail(file)
    finish_import(lambda: import_roster(association, data), as_json)


@click.group()
def mps() -> None:
    """Constituencies and their MPs."""


@mps.command("import")
@click.argument("file", type=click.Path(dir_okay=False), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@with_appcontext
def import_mps_command(file: str | None, as_json: bool) -> None:
    """Import MPs from a results CSV (default: the 2024 file shipped with the package)."""
    data = read_or_fail(file) if file else packaged_results()
    finish_import(lambda: import_mps(data), as_json)


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
