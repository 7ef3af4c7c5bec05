"""`campaign send`: what the sending page does, from the command line."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from campaign.delivery import steps
from campaign.delivery.outbox import (
    DeliveryError,
    dao_counts,
    plan,
    require_sendable,
)
from campaign.delivery.sending import SendSummary, send_ready
from campaign.drafting.cli import association_option, campaign_or_fail
from campaign.formatting import plural
from campaign.letters.models import Audience


def register_commands(app: Flask) -> None:
    app.cli.add_command(send_command)


@click.command("send")
@click.argument("campaign_slug")
@association_option
@click.option("--audience", type=click.Choice(["mps", "parents"]), required=True)
@click.option("--dry-run", is_flag=True, help="Say what would be sent; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def send_command(
    campaign_slug: str, slug: str | None, audience: str, dry_run: bool, as_json: bool
) -> None:
    """Send a campaign's letters to one audience by email (each message once), and
    prepare the rest for the post."""
    campaign = campaign_or_fail(campaign_slug, slug)
    chosen = Audience(audience)
    try:
        if dry_run:
            require_sendable(campaign)
            planned = plan(campaign, chosen)
        else:
            planned, added = steps.send(campaign, chosen, in_background=False)
    except DeliveryError as exc:
        raise click.ClickException(str(exc)) from None
    counts = planned.counts()
    result: dict = {
        "audience": audience,
        "dry_run": dry_run,
        **counts,
        "suppressed": planned.suppressed,
    }
    if not dry_run:
        total = counts["email"]
        with click.progressbar(length=max(total, 1), label="Sending", file=sys.stderr) as bar:

            def progress(summary: SendSummary) -> None:
                done = summary.sent + summary.failed + summary.suppressed
                bar.update(done - bar.pos)

            summary = send_ready(campaign.id, chosen, progress=progress)
        result.update(new=added, run=summary.as_dict(), outbox=dao_counts(campaign.id, chosen))
    if as_json:
        click.echo(json.dumps(result))
        return
    emails, letters = plural(counts["email"], "email"), plural(counts["post"], "letter")
    if dry_run:
        click.echo(f"Would send {emails}; {letters} would go by post.")
        return
    click.echo(f"Outbox: {emails}, {letters} by post ({result['new']} new).")
    run = result["run"]
    click.echo(
        f"This run: {run['sent']} sent, {run['failed']} failed, "
        f"{run['suppressed']} suppressed, {run['api_calls']} API calls, {run['seconds']} s."
    )
