"""Fixtures: the app on SQLite and (when TEST_DATABASE_URL is set) on PostgreSQL.

Each backend is migrated once per run with Alembic, the same way `campaign db
upgrade` does; each test starts from empty tables. PostgreSQL gets a fresh
schema per run, dropped at the end.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

# Before the app is imported: the task queue and secret key live in the instance folder.
os.environ["CAMPAIGN_INSTANCE"] = tempfile.mkdtemp(prefix="campaign-test-")
os.environ.pop("REDIS_URL", None)
os.environ.pop("DATABASE_URL", None)
os.environ.pop("SENDGRID_API_KEY", None)

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from campaign import create_app  # noqa: E402
from campaign.consultation.models import QuestionKind  # noqa: E402
from campaign.drafting.models import CampaignState  # noqa: E402
from campaign.extensions import db  # noqa: E402
from tests.factories import (  # noqa: E402
    Question,
    add_co_head,
    make_campaign,
    make_signed_campaign,
    make_world,
    read_outbox,
    scene,
)

# The tests read only this tree: the demo files shipped with the package, and real
# GIAS samples kept beside the tests (tests/data/SOURCES.md says where they come from).
DEMO_DATA = Path(__file__).resolve().parent.parent / "campaign" / "data"
SAMPLES = Path(__file__).resolve().parent / "data" / "gias-samples"
IN_CI = os.environ.get("CI") == "true"


def _backends() -> list:
    postgres = pytest.param("postgresql", id="postgresql")
    if not os.environ.get("TEST_DATABASE_URL"):
        if IN_CI:
            raise RuntimeError("CI must set TEST_DATABASE_URL so the PostgreSQL tests run.")
        postgres = pytest.param(
            "postgresql",
            id="postgresql",
            marks=pytest.mark.skip(reason="TEST_DATABASE_URL is not set: no PostgreSQL to test"),
        )
    return [pytest.param("sqlite", id="sqlite"), postgres]


@pytest.fixture(scope="session", params=_backends())
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        _migrate(url)
        yield url
        return
    if not os.environ.get("TEST_DATABASE_URL"):  # a test that asked for PostgreSQL only
        pytest.skip("TEST_DATABASE_URL is not set: no PostgreSQL to test")
    base = sa.make_url(os.environ["TEST_DATABASE_URL"])
    schema = f"test_{secrets.token_hex(6)}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        _migrate(url.render_as_string(hide_password=False))
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _config(url: str, tmp: Path | None = None) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test",
        "TASKS_IMMEDIATE": True,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "OUTBOX_DIR": str(tmp or tempfile.mkdtemp()),
        "LETTER_STORE": tempfile.mkdtemp(prefix="letters-"),
        "BASE_URL": "http://localhost",
        "LETTER_PROCESSES": 1,
    }


def _migrate(url: str) -> None:
    app = create_app(_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (its own `g` and DB session), as in
    production, even though the test itself holds one open for factories."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build apps on the test database (with config overrides); empty it afterwards."""
    apps = []

    def make(**overrides):
        app = create_app({**_config(database_url, tmp_path / "outbox"), **overrides})
        app.test_client_class = IsolatedClient
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def outbox(app):
    """The emails the file backend wrote, parsed, oldest first."""
    return lambda: read_outbox(app)


# --- the association world and its campaign, for any test -----------------------------

# The consultation's statement: three paragraphs, the second about SEND.
STATEMENT = "# Fair funding\n\nFirst paragraph.\n\nSecond paragraph about SEND.\n\nThird paragraph."


@pytest.fixture
def association_world(app):
    """Associations A and B, their leads, A's heads and schools (tests.factories.World)."""
    world = make_world()
    db.session.commit()
    return world


@pytest.fixture
def consultation(association_world):
    """A's campaign "Fair funding" in consultation, asking a required money question
    ("Projected deficit") and a number question ("Posts cut")."""
    w = association_world
    campaign = make_campaign(
        w.a, author=w.lead, state=CampaignState.CONSULTATION, summary="Our statement.",
        body=STATEMENT, questions=[Question(QuestionKind.MONEY, "Projected deficit", True),
                                   Question(QuestionKind.NUMBER, "Posts cut")],
    )  # fmt: skip
    return scene(w, campaign)


@pytest.fixture
def signoff(association_world):
    """A's campaign "Fair funding" in sign-off, no school answered yet; Thurrock
    School has a co-head."""
    w = association_world
    add_co_head(w)
    return scene(w, make_campaign(w.a, author=w.lead, state=CampaignState.SIGNOFF))


@pytest.fixture
def signed(association_world):
    """The campaign in sign-off, its projected deficit answered by each school, then
    signed by Saxon (1,000 pupils) and Thurrock School (600) and declined by Abbey;
    Thurrock School has a co-head."""
    add_co_head(association_world)
    return scene(association_world, make_signed_campaign(association_world))
