"""Signing for a school: bound to the text, one per school, only by its heads."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from campaign.drafting.models import CampaignState
from campaign.extensions import db
from campaign.signoff import services, steps
from campaign.signoff.models import AuditEvent, Decision, Signature
from tests.factories import BASE, links_in, make_headship, sign_form, sign_in


def signatures() -> list[Signature]:
    db.session.expire_all()  # the requests wrote through their own sessions
    return list(db.session.scalars(select(Signature).order_by(Signature.id)))


def test_head_signs_in_three_screens(client, signoff):
    from campaign.auth.services import issue_sign_in_link
    from campaign.signoff.notices import sign_path

    link = issue_sign_in_link(signoff.head, next_path=sign_path(signoff.campaign))
    db.session.commit()
    path = link.replace("http://localhost", "")
    assert "Continue as Hal Head, headteacher of Thurrock School" in client.get(path).get_data(
        as_text=True
    )
    landed = client.post(path)  # screen 1: the POST consumes the link
    assert landed.location == f"{BASE}/sign"
    page = client.get(f"{BASE}/sign", follow_redirects=True).get_data(as_text=True)  # screen 2
    assert "Send Thurrock School's answer" in page and "We ask." in page
    done = client.post(
        f"{BASE}/sign/900003",
        data=sign_form(signoff.campaign, name="Hal Head", role="Headteacher"),
    )
    assert done.location == f"{BASE}/sign/900003/done"
    confirmation = client.get(done.location).get_data(as_text=True)  # screen 3
    assert "Thurrock School has signed" in confirmation
    [signature] = signatures()
    assert (signature.name, signature.role, signature.decision) == (
        "Hal Head",
        "Headteacher",
        Decision.SIGNED,
    )
    assert signature.version_sha256 == signoff.campaign.frozen_version.sha256
    assert len(signature.client_hash) == 64


def test_a_stale_page_is_refused(client, signoff):
    sign_in(client, signoff.exec)
    form = sign_form(signoff.campaign)
    form["version_sha256"] = "0" * 64
    response = client.post(f"{BASE}/sign/900001", data=form)
    assert response.status_code == 400
    assert "The statement changed after this page was opened" in response.get_data(as_text=True)
    assert signatures() == []


def test_second_submit_changes_nothing_and_says_already_signed(client, signoff):
    sign_in(client, signoff.exec)
    client.post(f"{BASE}/sign/900001", data=sign_form(signoff.campaign))
    again = client.post(
        f"{BASE}/sign/900001",
        data=sign_form(signoff.campaign, decision="declined", name="Someone Else"),
        follow_redirects=True,
    )
    assert "Saxon High has already signed" in again.get_data(as_text=True)
    [signature] = signatures()
    assert signature.decision is Decision.SIGNED and signature.name == "Eve Exec"


def test_a_co_head_cannot_sign_over_the_other_head(client, signoff):
    sign_in(client, signoff.head)
    client.post(f"{BASE}/sign/900003", data=sign_form(signoff.campaign, name="Hal Head"))
    sign_in(client, signoff.co_head)
    client.post(
        f"{BASE}/sign/900003",
        data=sign_form(signoff.campaign, decision="declined", name="Cora Co"),
    )
    assert [(s.name, s.decision.value) for s in signatures()] == [("Hal Head", "signed")]


@pytest.mark.parametrize("who", ["lead", "lead_b", "head"])
def test_only_the_schools_own_heads_can_sign(client, signoff, who):
    sign_in(client, getattr(signoff, who))
    response = client.post(f"{BASE}/sign/900001", data=sign_form(signoff.campaign))
    assert response.status_code == 404
    assert signatures() == []


def test_executive_head_signs_each_school_separately(client, signoff):
    sign_in(client, signoff.exec)
    page = client.get(f"{BASE}/sign").get_data(as_text=True)
    assert "Sign or decline for Saxon High" in page and "Sign or decline for Abbey Academy" in page
    client.post(f"{BASE}/sign/900001", data=sign_form(signoff.campaign))
    done = client.get(f"{BASE}/sign/900001/done").get_data(as_text=True)
    assert "You also lead Abbey Academy" in done
    client.post(f"{BASE}/sign/900002", data=sign_form(signoff.campaign, decision="declined"))
    assert {s.school.urn: s.decision.value for s in signatures()} == {
        900001: "signed",
        900002: "declined",
    }


def test_withdraw_then_sign_again_keeps_history(client, signoff):
    sign_in(client, signoff.exec)
    client.post(f"{BASE}/sign/900001", data=sign_form(signoff.campaign))
    client.post(f"{BASE}/sign/900001/withdraw")
    [signature] = signatures()
    assert signature.withdrawn is not None and not signature.counts
    client.post(f"{BASE}/sign/900001", data=sign_form(signoff.campaign, decision="declined"))
    [signature] = signatures()
    assert signature.decision is Decision.DECLINED and signature.withdrawn is None
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["froze", "signed", "withdrew", "replaced-withdrawn", "declined"]


def test_signing_after_close_is_refused(client, signoff):
    services.close(signoff.campaign, signoff.lead)
    db.session.commit()
    sign_in(client, signoff.exec)
    response = client.post(f"{BASE}/sign/900001", data=sign_form(signoff.campaign))
    assert response.status_code == 400
    assert "Sign-off is not open" in response.get_data(as_text=True)
    assert signatures() == []


def test_reopen_voids_signatures_after_saying_how_many_and_tells_the_heads(client, signoff, outbox):
    sign_in(client, signoff.exec)
    client.post(f"{BASE}/sign/900001", data=sign_form(signoff.campaign))
    client.post(f"{BASE}/sign/900002", data=sign_form(signoff.campaign))
    sign_in(client, signoff.lead)
    page = client.get(f"{BASE}/reopen").get_data(as_text=True)
    assert "Void 2 answers and reopen" in page
    assert client.post(f"{BASE}/reopen").status_code == 302
    db.session.refresh(signoff.campaign)
    assert signoff.campaign.state is CampaignState.CONSULTATION
    assert signatures() == []
    assert [m["To"] for m in outbox() if m["Subject"].startswith("Signatures voided")] == [
        "exec@a.example"
    ]
    voided = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reopened"))
    assert [v["urn"] for v in voided.detail["voided"]] == [900001, 900002]


def test_an_old_invitation_after_reopening_says_the_text_went_back(client, signoff):
    form = sign_form(signoff.campaign)
    services.reopen(signoff.campaign, signoff.lead)
    db.session.commit()
    sign_in(client, signoff.exec)
    page = client.get(f"{BASE}/sign/900001")
    assert page.status_code == 200
    assert "The text has gone back for changes" in page.get_data(as_text=True)
    response = client.post(f"{BASE}/sign/900001", data=form)
    assert response.status_code == 400 and signatures() == []


def test_freeze_invites_every_head_with_a_link_to_sign(client, signoff, outbox):
    campaign = signoff.campaign
    services.reopen(campaign, signoff.lead)
    db.session.commit()
    sign_in(client, signoff.lead)
    assert "email 3 heads" in client.get(f"{BASE}/freeze").get_data(as_text=True)
    client.post(f"{BASE}/freeze")
    invitations = [m for m in outbox() if m["Subject"] == "Please sign: Fair funding"]
    assert sorted(m["To"] for m in invitations) == [
        "co@a.example",
        "exec@a.example",
        "head@a.example",
    ]
    # A head of one school lands on its sign page, with no redirect on the way.
    (hal,) = [m for m in invitations if m["To"] == "head@a.example"]
    link = next(x for x in links_in(hal) if "/sign-in/" in x).replace("http://localhost", "")
    assert client.post(link).location == f"{BASE}/sign/900003"


def test_a_head_of_two_schools_is_invited_to_choose_between_them(client, signoff, outbox):
    make_headship(signoff.a, signoff.head, signoff.schools[0])
    services.reopen(signoff.campaign, signoff.lead)
    db.session.commit()
    sign_in(client, signoff.lead)
    client.post(f"{BASE}/freeze")
    (hal,) = [m for m in outbox() if m["To"] == "head@a.example" and "Please sign" in m["Subject"]]
    link = next(x for x in links_in(hal) if "/sign-in/" in x).replace("http://localhost", "")
    assert client.post(link).location == f"{BASE}/sign"


def test_the_text_cannot_change_in_signoff(client, signoff):
    sign_in(client, signoff.lead)
    response = client.post(f"{BASE}/statement", data={"body": "A new text."})
    assert response.status_code == 400
    assert "The statement is frozen" in response.get_data(as_text=True)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_fifty_concurrent_signatures_lose_nothing(make_app):
    """Fifty heads sign at once on PostgreSQL, each from their own connection.
    (SQLite serialises writers, so there is nothing to race there.)"""
    import threading

    from campaign.consultation import services as consultation
    from campaign.directory.models import Role
    from campaign.drafting.services import create_campaign
    from tests.factories import make_association, make_headship, make_school, make_user

    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 55, "max_overflow": 0})
    with app.app_context():
        a = make_association(slug="many")
        heads = []
        for i in range(50):
            school = make_school(a, urn=910000 + i, name=f"School {i}")
            head = make_user(f"h{i}@x.example", f"Head {i}", a, Role.HEAD)
            make_headship(a, head, school)
            heads.append((head.id, school.id))
        campaign = create_campaign(a, "Many", body="Text.")
        db.session.flush()
        consultation.open_consultation(campaign)
        services.freeze(campaign, None)
        db.session.commit()
        campaign_id, sha = campaign.id, campaign.frozen_version.sha256

    barrier = threading.Barrier(50, timeout=60)
    errors = []

    def sign(user_id, school_id):
        with app.app_context():
            from campaign.directory.models import School, User
            from campaign.drafting.models import Campaign

            campaign = db.session.get(Campaign, campaign_id)
            school, user = db.session.get(School, school_id), db.session.get(User, user_id)
            barrier.wait()
            try:
                steps.sign(
                    campaign,
                    school,
                    user,
                    decision=Decision.SIGNED,
                    name=user.name,
                    role="Head",
                    shown_sha256=sha,
                )
            except Exception as exc:  # noqa: BLE001  (collected and asserted below)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sign, args=pair) for pair in heads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app.app_context():
        assert errors == []
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 50
