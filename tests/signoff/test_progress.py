"""The lead's side of sign-off: progress, chasers, the public page, exports, CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, insert, select

from campaign import paging
from campaign.cli import main
from campaign.directory.models import Headship, Role, School, User
from campaign.extensions import db
from campaign.signoff import services, steps, tasks
from campaign.signoff.models import Decision
from campaign.signoff.progress import progress
from tests.factories import BASE, sign_in


def sign(signoff, urn: int, user_key: str, decision=Decision.SIGNED):
    school = db.session.scalar(select(School).where(School.urn == urn))
    user = getattr(signoff, user_key)
    return steps.sign(
        signoff.campaign, school, user, decision=decision, name=user.name, role="Head",
        shown_sha256=signoff.campaign.frozen_version.sha256,
    )  # fmt: skip


def test_progress_counts_by_la_and_constituency_with_pupils(signoff):
    sign(signoff, 900001, "exec")
    sign(signoff, 900003, "head", Decision.DECLINED)
    result = progress(signoff.campaign)
    total = result.total
    assert (total.schools, total.signed, total.declined, total.no_answer, total.pupils) == (
        3,
        1,
        1,
        1,
        1000,
    )
    assert [(r.group, r.signed, r.declined, r.no_answer) for r in result.by_la] == [
        ("Essex", 1, 0, 1), ("Thurrock", 0, 1, 0)
    ]  # fmt: skip
    basildon = next(r for r in result.by_constituency if r.code == "E14001077")
    assert (basildon.group, basildon.mp, basildon.signed, basildon.pupils) == (
        "Basildon and Billericay", "Richard Holden", 1, 1000
    )  # fmt: skip


def _add_schools(association_id: int, n: int, start: int) -> None:
    db.session.execute(
        insert(School),
        [
            {
                "association_id": association_id,
                "urn": start + i,
                "name": f"School {i}",
                "local_authority": f"LA {i % 7}",
            }
            for i in range(n)
        ],
    )
    db.session.commit()


def count_queries(run) -> int:
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_dashboard_query_count_is_constant_from_80_to_5000_schools(client, signoff):
    sign_in(client, signoff.lead)
    a = signoff.a
    _add_schools(a.id, 77, 920000)  # 80 member schools
    small = count_queries(lambda: client.get(f"{BASE}/signoff"))
    _add_schools(a.id, 4920, 930000)  # 5,000 member schools
    large = count_queries(lambda: client.get(f"{BASE}/signoff"))
    assert small == large
    page = client.get(f"{BASE}/signoff").get_data(as_text=True)
    assert "0 signed, 0 declined, 5000 no answer, of 5,000 schools" in page


def test_chasers_go_only_to_heads_of_schools_without_an_answer(client, signoff, outbox):
    sign(signoff, 900003, "head")
    sign_in(client, signoff.lead)
    page = client.get(f"{BASE}/signoff").get_data(as_text=True)
    assert "Send a reminder to 1 head of these schools" in page
    form = {"batch": "press-1", "la": "", "constituency": ""}
    client.post(f"{BASE}/signoff/chase", data=form)
    client.post(f"{BASE}/signoff/chase", data=form)  # posted twice: sent once
    assert [m["To"] for m in outbox()] == ["exec@a.example"]
    assert outbox()[0]["Subject"] == "Reminder: please sign Fair funding"
    client.post(
        f"{BASE}/signoff/chase", data={"batch": "press-2", "la": "Thurrock", "constituency": ""}
    )
    assert len(outbox()) == 1  # everyone in Thurrock has answered


def test_the_no_answer_list_is_paged_and_searched_but_the_chaser_reaches_all(
    client, signoff, outbox, monkeypatch
):
    monkeypatch.setattr(paging, "PER_PAGE", 2)
    sign_in(client, signoff.lead)
    page = " ".join(client.get(f"{BASE}/signoff").get_data(as_text=True).split())
    assert "No answer yet (3)" in page and "Page 1 of 2" in page
    assert "Abbey Academy" in page and "Saxon High" in page and "Thurrock School" not in page
    assert f'<a href="{BASE}/signoff?page=2#no-answer" rel="next">Next page</a>' in page
    assert "Previous page" not in page
    # The button counts the heads of every school without an answer, not of the page.
    assert "Send a reminder to 3 heads of these schools" in page
    second = client.get(f"{BASE}/signoff?page=2").get_data(as_text=True)
    assert "Thurrock School" in second and "Saxon High" not in second
    found = " ".join(
        client.get(f"{BASE}/signoff?q=thurrock&la=Thurrock").get_data(as_text=True).split()
    )
    assert "No answer yet (1)" in found and "Thurrock School" in found
    assert "Send a reminder" not in found  # a search is not who a reminder goes to
    assert f'<a href="{BASE}/signoff?la=Thurrock#no-answer">clear the search</a>' in found
    by_urn = client.get(f"{BASE}/signoff?q=900002").get_data(as_text=True)
    assert "Abbey Academy" in by_urn and "Saxon High" not in by_urn
    client.post(f"{BASE}/signoff/chase", data={"batch": "p", "la": "", "constituency": ""})
    assert sorted(m["To"] for m in outbox()) == ["co@a.example", "exec@a.example",
                                                 "head@a.example"]  # fmt: skip


def test_a_queued_chaser_asks_of_its_one_head_whether_they_still_owe_an_answer(signoff):
    campaign = signoff.campaign
    owes = lambda user: services.is_chase_recipient(campaign, user.id)  # noqa: E731
    assert owes(signoff.exec) and owes(signoff.head) and owes(signoff.co_head)
    assert not owes(signoff.lead) and not owes(signoff.lead_b)  # they lead no school here
    sign(signoff, 900003, "head")
    assert not owes(signoff.head) and not owes(signoff.co_head)  # Thurrock has answered
    sign(signoff, 900001, "exec")
    assert owes(signoff.exec)  # Abbey Academy still owes one
    sign(signoff, 900002, "exec", Decision.DECLINED)
    assert not owes(signoff.exec)
    assert sorted(services.chase_recipients(campaign)) == []


def test_scheduled_chasers_follow_the_lead_s_days(signoff, outbox):
    campaign = signoff.campaign
    now = datetime.now(UTC)
    campaign.signoff_deadline = now + timedelta(days=5)
    campaign.reminder_days = "7,3,1"
    db.session.commit()
    sign(signoff, 900003, "head")
    due = tasks.due_chasers(now)
    assert [(uid, key.rsplit(":", 1)[1]) for _, uid, key in due] == [(signoff.exec.id, "7d")]
    assert tasks.due_chasers(now - timedelta(days=3)) == []  # 8 days out: nothing due yet
    tasks.send_scheduled_chasers.call_local()
    tasks.send_scheduled_chasers.call_local()  # the next run sends nothing again
    assert [m["To"] for m in outbox()] == ["exec@a.example"]


def test_public_page_shows_only_standing_signatures_and_checks_references(client, signoff):
    sign(signoff, 900001, "exec")
    sign(signoff, 900002, "exec", Decision.DECLINED)
    signature = sign(signoff, 900003, "head")
    steps.withdraw(signoff.campaign, signature.school, signoff.head)
    public = "/public/assoc-a/fair-funding"
    assert client.get(public).status_code == 404  # not published, not closed
    campaign = signoff.campaign
    campaign.public_page = True
    services.close(campaign, signoff.lead)
    db.session.commit()
    page = client.get(public).get_data(as_text=True)
    assert "Saxon High: Eve Exec, Head" in page
    assert "Abbey Academy" not in page and "Thurrock School" not in page
    assert "signed by 1 school" in page
    code = services.reference(campaign, campaign.frozen_version)
    typed = code.lower().replace("-", " ").replace("o", "0")
    assert "Genuine" in client.get(public, query_string={"reference": typed}).get_data(as_text=True)
    assert "Not found" in client.get(public, query_string={"reference": "AAAA-BBBB-CCCC"}).get_data(
        as_text=True
    )


def test_signatures_csv_and_audit_log_are_for_the_lead(client, signoff):
    sign(signoff, 900001, "exec")
    sign_in(client, signoff.lead)
    body = client.get(f"{BASE}/signoff/signatures.csv").get_data(as_text=True)
    assert body.splitlines()[1].startswith(
        "900001,Saxon High,Essex,E14001077,signed,Eve Exec,Head,"
    )
    assert "signed" in client.get(f"{BASE}/audit").get_data(as_text=True)
    sign_in(client, signoff.head)
    assert client.get(f"{BASE}/audit").status_code == 403
    assert client.get(f"{BASE}/signoff/signatures.csv").status_code == 403


def test_signoff_status_json_and_close_through_the_cli(runner, signoff):
    sign(signoff, 900001, "exec")
    sign(signoff, 900002, "exec", Decision.DECLINED)
    result = runner.invoke(main, ["signoff", "status", "fair-funding", "--json"])
    facts = json.loads(result.output)
    assert {k: facts[k] for k in ("signed", "declined", "no_answer")} == {
        "signed": 1, "declined": 1, "no_answer": 1
    }  # fmt: skip
    assert facts["version_sha256"] == signoff.campaign.frozen_version.sha256
    assert facts["signatories"] == [
        {"urn": 900001, "school": "Saxon High", "name": "Eve Exec", "role": "Head",
         "constituency_code": "E14001077"}
    ]  # fmt: skip
    assert runner.invoke(main, ["signoff", "close", "fair-funding"]).exit_code == 0
    again = runner.invoke(main, ["signoff", "close", "fair-funding"])
    assert again.exit_code == 1 and "cannot move to closed" in again.output


def test_reopen_is_offered_only_to_leads(client, signoff):
    sign_in(client, signoff.exec)
    assert client.post(f"{BASE}/reopen").status_code == 403
    assert client.post(f"{BASE}/close-signoff").status_code == 403
    headships = db.session.scalar(select(Headship).where(Headship.user_id == signoff.exec.id))
    assert (
        headships is not None
        and db.session.get(User, signoff.exec.id).memberships[0].role is Role.HEAD
    )
