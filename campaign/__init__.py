"""The collective-voice campaign toolkit for headteachers' associations."""

from __future__ import annotations

import secrets

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import InternalServerError

from campaign import bounds, logs, security
from campaign import config as settings
from campaign.extensions import csrf, db, huey, limiter, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages, template helpers."""
    app = Flask(
        __name__,
        template_folder=str(settings.PROJECT_ROOT / "templates"),
        instance_path=settings.instance_path().as_posix(),
    )
    app.config.from_mapping(settings.from_environment())
    app.config.from_mapping(config or {})
    logs.init_app(app)
    bounds.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    register_error_pages(app)
    register_template_helpers(app)
    security.init_app(app)
    return app


def register_extensions(app: Flask) -> None:
    from campaign import models  # noqa: F401  (every model known to Alembic)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(settings.PROJECT_ROOT / "campaign" / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see that page."
    huey.immediate = app.config.get("TASKS_IMMEDIATE", False)

    from campaign.auth.services import load_session_user

    login_manager.user_loader(load_session_user)


def register_blueprints(app: Flask) -> None:
    from campaign.auth.views import bp as auth
    from campaign.consultation.views import bp as consultation
    from campaign.delivery.parent_views import bp as parents
    from campaign.delivery.public import bp as unsubscribe
    from campaign.delivery.views import bp as delivery
    from campaign.directory.views import bp as directory
    from campaign.drafting.views import bp as drafting
    from campaign.health import bp as health
    from campaign.letters.views import bp as letters
    from campaign.overview.views import bp as overview
    from campaign.signoff.public import bp as public
    from campaign.signoff.views import bp as signoff

    for blueprint in (
        auth,
        directory,
        overview,
        drafting,
        consultation,
        signoff,
        letters,
        delivery,
        parents,
        public,
        unsubscribe,
        health,
    ):
        app.register_blueprint(blueprint)
    if app.config["DEVELOPMENT"]:
        from campaign import devtools

        devtools.init_app(app)


def register_commands(app: Flask) -> None:
    from campaign.consultation import cli as consultation
    from campaign.delivery import cli as delivery
    from campaign.directory import cli as directory
    from campaign.letters import cli as letters
    from campaign.signoff import cli as signoff

    for feature in (directory, consultation, signoff, letters, delivery):
        feature.register_commands(app)


def register_error_pages(app: Flask) -> None:
    def page(status: int, title: str, message: str, reference: str | None = None):
        html = render_template("error.html", title=title, message=message, reference=reference)
        return html, status

    def server_error(e: InternalServerError):
        # Only what no other handler caught reaches here: a bug or an outage.
        reference = secrets.token_hex(4).upper()
        app.logger.exception(
            "Unexpected error, reference %s", reference, exc_info=e.original_exception or e
        )
        try:
            # A failed statement leaves the session unusable, and the page itself
            # queries (the signed-in user for the header).
            db.session.rollback()
            return page(
                500,
                "Sorry, something went wrong",
                "Nothing was changed. Go back and try again.",
                reference,
            )
        except Exception:
            app.logger.exception("The error page failed too, reference %s", reference)
            text = f"Sorry, something went wrong. Nothing was changed. Reference {reference}"
            return text, 500, {"Content-Type": "text/plain; charset=utf-8"}

    app.register_error_handler(InternalServerError, server_error)

    app.register_error_handler(
        403, lambda e: page(403, "You cannot do that", "Your role does not allow this.")
    )
    app.register_error_handler(
        404, lambda e: page(404, "Page not found", "Check the address, or go back and try again.")
    )
    app.register_error_handler(
        410, lambda e: page(410, "This link no longer works", "Ask for a new one.")
    )
    app.register_error_handler(
        413,
        lambda e: page(
            413,
            "The file is too large",
            f"Files can be at most {request.max_content_length // (1024 * 1024)} MB. "
            "Nothing was imported.",
        ),
    )
    app.register_error_handler(
        429,
        lambda e: page(
            429, "Too many requests", "Wait a few minutes before asking for another link."
        ),
    )
    app.register_error_handler(
        CSRFError,
        lambda e: page(
            400,
            "The form had expired",
            "Nothing was changed. Go back, reload the page and try again.",
        ),
    )


def register_template_helpers(app: Flask) -> None:
    from campaign import formatting
    from campaign.drafting.text import paragraphs, to_html

    app.jinja_env.filters.update(
        plural=formatting.plural,
        and_list=formatting.and_list,
        number=formatting.number,
        money=formatting.money,
        when=formatting.when,
        when_relative=formatting.when_relative,
        markdown=to_html,
        paragraphs=paragraphs,
    )
