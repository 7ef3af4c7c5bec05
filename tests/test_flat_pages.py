"""Every lead page costs the same at 100 schools as at 5,000: the same number of SQL
queries and the same number of rows handed back by the database, per request.

Rows are counted at the DB-API cursor (each row SQLite returns to Python), so a
list read whole, a column of ids or an ORM load all count; page sizes are made
small so that the small association already fills every page."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pytest
from sqlalchemy import event

from campaign import create_app, paging
from campaign.extensions import db
from tests.browser.every_page import LEAD, PAGES
from tests.conftest import IsolatedClient, _config
from tests.factories import BASE, make_national_campaign, make_world, sign_in

SMALL, LARGE = 100, 5000
PER_PAGE = 10  # so that 100 schools fill each page as 5,000 do

A = "/a/assoc-a"
# Each lead page, as the lead opens it (and with the filters a lead would use).
LEAD_PAGES = {
    "overview.home": f"{A}/",
    "overview.campaigns": f"{A}/campaigns/",
    "overview.campaign": f"{BASE}/",
    "drafting.versions": f"{BASE}/versions",
    "drafting.version": f"{BASE}/v/1",
    "consultation.questions": f"{BASE}/questions",
    "consultation.dashboard": f"{BASE}/consultation",
    "consultation.dashboard-search": f"{BASE}/consultation?q=school&constituency=E14001535",
    "consultation.dashboard-page-2": f"{BASE}/consultation?page=2",
    # The confirmation pages say what a step will do in numbers (a GET renders in any state).
    "consultation.open_consultation": f"{BASE}/open",
    "consultation.close_consultation": f"{BASE}/close-consultation",
    "consultation.back_to_draft": f"{BASE}/back-to-draft",
    "signoff.freeze": f"{BASE}/freeze",
    "signoff.close": f"{BASE}/close-signoff",
    "signoff.reopen": f"{BASE}/reopen",
    "signoff.dashboard": f"{BASE}/signoff",
    "signoff.dashboard-search": f"{BASE}/signoff?q=school&constituency=E14001535",
    "signoff.dashboard-page-2": f"{BASE}/signoff?page=2",
    "signoff.audit_log": f"{BASE}/audit",
    "letters.index": f"{BASE}/letters/",
    "letters.index-search": f"{BASE}/letters/?q=school",
    "delivery.index": f"{BASE}/sending/",
    "delivery.progress": f"{BASE}/sending/parents",
    "delivery.progress-page-2": f"{BASE}/sending/parents?page=2",
    "delivery.report": f"{BASE}/sending/report",
    "directory.schools": f"{A}/schools",
    "directory.schools-search": f"{A}/schools?q=school",
    "directory.school": f"{A}/schools/900001",
    "directory.mps": f"{A}/mps",
    "directory.needs_attention": f"{A}/needs-attention",
    "directory.imports": f"{A}/imports",
    "directory.settings": f"{A}/settings",
    "auth.details": "/details",
}
# Lead pages of the sweep that this test does not open, and why.
NOT_HERE = {
    "drafting.new": "a blank form",
    "drafting.statement": "the editor of a draft (one statement)",
    "drafting.compare": "two versions of one statement",
    "letters.show": "one letter",
    "letters.email_html": "one letter's email",
    # Not flat yet: it reads the whole plan (every letter, head and parents' list) to
    # name each recipient by post and count what is new; the step then sends them.
    "delivery.send": "the confirmation before sending reads the plan",
    "directory.import_job": "one import's progress",
}


class CountingCursor(sqlite3.Cursor):
    """A cursor that counts the rows it hands back."""

    rows = 0

    def fetchone(self):
        row = super().fetchone()
        CountingCursor.rows += row is not None
        return row

    def fetchmany(self, size: int = 1):
        rows = super().fetchmany(size)
        CountingCursor.rows += len(rows)
        return rows

    def fetchall(self):
        rows = super().fetchall()
        CountingCursor.rows += len(rows)
        return rows

    def __next__(self):
        row = super().__next__()
        CountingCursor.rows += 1
        return row


class CountingConnection(sqlite3.Connection):
    def cursor(self, factory=CountingCursor):
        return super().cursor(factory)


@dataclass
class Cost:
    status: int
    queries: int
    rows: int


def _measure(database_url: str, schools: int) -> dict[str, Cost]:
    app = create_app(
        {
            **_config(database_url),
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"factory": CountingConnection}},
        }
    )
    app.test_client_class = IsolatedClient
    costs = {}
    with app.app_context():
        try:
            world = make_world()
            db.session.commit()
            make_national_campaign(world, schools)
            client = app.test_client()
            sign_in(client, world.lead)
            queries = []
            count = lambda *args, **kwargs: queries.append(1)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", count)
            try:
                for name, path in LEAD_PAGES.items():
                    client.get(path)  # warm: the first request of a kind may fill caches
                    queries.clear()
                    CountingCursor.rows = 0
                    status = client.get(path).status_code
                    costs[name] = Cost(status, len(queries), CountingCursor.rows)
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
        finally:
            db.session.remove()
            with db.engine.begin() as conn:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
            db.engine.dispose()
    return costs


@pytest.fixture(scope="module")
def costs(database_url):
    assert database_url.startswith("sqlite"), "rows are counted at SQLite's cursor"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paging, "PER_PAGE", PER_PAGE)
        small = _measure(database_url, SMALL)
        large = _measure(database_url, LARGE)
    report = "\n".join(
        f"{name:36} {small[name].queries:3} queries {small[name].rows:5} rows | "
        f"{large[name].queries:3} queries {large[name].rows:5} rows"
        for name in LEAD_PAGES
    )
    print(f"\n{'page':36} at {SMALL} schools | at {LARGE} schools\n{report}")
    return small, large


# On SQLite only: rows are counted at its cursor (the queries are the same on PostgreSQL).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", LEAD_PAGES)
def test_a_lead_page_costs_the_same_at_100_and_5000_schools(costs, name):
    small, large = costs
    assert small[name].status == large[name].status == 200
    assert (large[name].queries, large[name].rows) == (small[name].queries, small[name].rows), (
        f"{name}: {small[name]} at {SMALL} schools, {large[name]} at {LARGE}"
    )


def test_every_lead_page_of_the_sweep_is_measured_or_said_why_not():
    lead_pages = {p.endpoint for p in PAGES if p.who == LEAD and p.endpoint}
    measured = {name.split("-")[0] for name in LEAD_PAGES}
    assert lead_pages - measured - NOT_HERE.keys() == set()
