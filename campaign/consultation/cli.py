"""`campaign campaigns list|show`: campaigns and their consultations."""

from __future__ import annotations

import json

import click
from flask import Flask
from flask.cli import with_appcontext

from campaign.consultation.summary import campaign_facts
from campaign.directory.cli import association_or_fail
from campaign.drafting.cli import association_option, campaign_or_fail
from campaign.drafting.services import dao_campaigns


def register_commands(app: Flask) -> None:
    app.cli.add_command(campaigns)


@click.group()
def campaigns() -> None:
    """Campaigns and their consultations."""


@campaigns.command("list")
@click.option("--association", "slug", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def list_campaigns(slug: str, as_json: bool) -> None:
    """The association's campaigns, newest first."""
    found = [campaign_facts(c) for c in dao_campaigns(association_or_fail(slug).id)]
    if as_json:
        click.echo(json.dumps(found))
        return
    for c in found:
        click.echo(f"{c['slug']}  {c['state']}  version {c['version'] or '-'}  {c['title']}")


@campaigns.command("show")
@click.argument("campaign_slug")
@association_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def show_campaign(campaign_slug: str, slug: str | None, as_json: bool) -> None:
    """State, current version and hash, tally and evidence counts of one campaign."""
    facts = campaign_facts(campaign_or_fail(campaign_slug, slug))
    if as_json:
        click.echo(json.dumps(facts))
        return
    for key, value in facts.items():
        click.echo(f"{key}: {value}")
