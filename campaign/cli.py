"""The `campaign` command: Flask's own commands, each feature's (registered by
`create_app` through the feature's `register_commands`), the demo and the worker."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from huey.consumer import Consumer

from campaign import create_app, tasks
from campaign.demo import load_demo
from campaign.extensions import huey


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
