"""`campaign signoff open|close|status`: sign-off from the command line."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import with_appcontext

from campaign.drafting.cli import association_option, campaign_or_fail
from campaign.drafting.models import IllegalTransition
from campaign.signoff import services, steps
from campaign.signoff.summary import status


def register_commands(app: Flask) -> None:
    app.cli.add_command(signoff)


@click.group()
def signoff() -> None:
    """Sign-off of a campaign's final text."""


@signoff.command("open")
@click.argument("campaign_slug")
@association_option
@with_appcontext
def signoff_open(campaign_slug: str, slug: str | None) -> None:
    """Freeze the current version, open sign-off and invite every head."""
    campaign = campaign_or_fail(campaign_slug, slug)
    try:
        user_ids = steps.freeze(campaign, None)
    except (IllegalTransition, services.SignOffError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Version {campaign.frozen_version.number} frozen; inviting {len(user_ids)} heads to sign."
    )


@signoff.command("close")
@click.argument("campaign_slug")
@association_option
@with_appcontext
def signoff_close(campaign_slug: str, slug: str | None) -> None:
    """Close sign-off: the signatures become final."""
    campaign = campaign_or_fail(campaign_slug, slug)
    try:
        steps.close(campaign, None)
    except IllegalTransition as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Sign-off closed.")


@signoff.command("status")
@click.argument("campaign_slug")
@association_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def signoff_status(campaign_slug: str, slug: str | None, as_json: bool) -> None:
    """Signed, declined and unanswered counts, the text's hash and the signatories."""
    facts = status(campaign_or_fail(campaign_slug, slug))
    if as_json:
        click.echo(json.dumps(facts))
        return
    click.echo(
        f"{facts['signed']} signed, {facts['declined']} declined, {facts['no_answer']} no answer; "
        f"text {facts['version_sha256']}"
    )
