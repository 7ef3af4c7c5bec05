"""The `campaign` command: Flask's own commands, each feature's (registered by
`create_app` through the feature's `register_commands`), the demo and the worker."""

from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from huey.consumer import Consumer

from campaign import create_app, tasks
from campaign.demo import load_demo
from campaign.directory.cli import association_or_fail
from campaign.extensions import db, huey
from campaign.letters.retention import delete_pdfs
from campaign.retention import apply_retention


@click.group(cls=FlaskGroup, create_app=create_app)
def main() -> None:
    """Run the headteachers' association campaign toolkit."""


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
    for line in load_demo(with_consultation=with_consultation, with_signoff=with_signoff):
        click.echo(line)


@main.command()
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Tasks run at once (threads).",
)
# The old name, kept so scripts written for it still work.
@click.option("--workers", type=click.IntRange(min=1), hidden=True)
@with_appcontext
def worker(concurrency: int, workers: int | None) -> None:
    """Run the background task consumer (Huey) for this app."""
    # Every task module is imported by its blueprint, so create_app registered them all;
    # logging is already set up by create_app (campaign.logs, LOG_FORMAT).
    tasks.set_worker_app(current_app._get_current_object())
    # Poll at least once a second: a sign-in link should arrive while the person waits.
    Consumer(huey, workers=workers or concurrency, worker_type="thread", max_delay=1.0).run()


@main.command()
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Keep this many days (default: RETENTION_DAYS, 365).",
)
@click.option(
    "--association", "slug", help="Only this association's campaigns (and no sign-in links)."
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@with_appcontext
def retention(days: int | None, slug: str | None, dry_run: bool, as_json: bool) -> None:
    """Delete old sign-in links and parents' lists, and anonymise campaigns closed or
    sent with nothing done in them for the retention period. Safe to run daily."""
    days = days or current_app.config["RETENTION_DAYS"]
    association_id = association_or_fail(slug).id if slug else None
    report = apply_retention(days, association_id)
    # A dry run does all the work in the transaction, so its counts are exact, then undoes it.
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
        report.counts["letter PDFs deleted"] = delete_pdfs(report.pdfs)
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, "before": report.before.isoformat(),
                               "campaigns": report.campaigns, **report.counts}))  # fmt: skip
        return
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb} what is older than {days} days (before {report.before:%Y-%m-%d}):")
    past = ", ".join(report.campaigns) or "none"
    click.echo(f"  finished campaigns past it: {len(report.campaigns)} ({past})")
    for kind, count in report.counts.items():
        click.echo(f"  {kind}: {count}")
    if dry_run:
        click.echo("Dry run: nothing was changed.")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
