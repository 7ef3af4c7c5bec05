"""A worker killed between SendGrid accepting a message and the database recording
it: after a restart the message is not sent twice, and SendGrid's processed event
(which carries our id) settles it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import select

from campaign.delivery.models import Message, MessageState, ParentList
from campaign.delivery.outbox import build_outbox
from campaign.delivery.sending import send_ready
from campaign.delivery.services import send_in_doubt_again
from campaign.extensions import db
from campaign.letters.models import Audience
from tests import fakes


def worker_env(database_url: str, sendgrid_url: str, letters: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LETTER_STORE": letters,
        "SENDGRID_API_KEY": fakes.SENDGRID_KEY,
        "SENDGRID_API_HOST": sendgrid_url,
        "SEND_WORKERS": "1",  # one request at a time, so the kill lands after the first
        "BASE_URL": "http://localhost",
        "SECRET_KEY": "test",
    }
    env.pop("REDIS_URL", None)
    return env


SEND = [sys.executable, "-m", "campaign.cli", "send", "fair-funding", "--audience", "parents"]


def test_a_worker_killed_after_sendgrid_accepted_does_not_send_twice(
    closed, database_url, tmp_path, client, signer, app
):
    school = next(s for s in closed.schools if s.urn == 900003)
    db.session.add(
        ParentList(
            campaign_id=closed.campaign.id,
            school_id=school.id,
            emails=[f"p{n}@home.example" for n in range(5)],
            count=5,
        )
    )
    build_outbox(closed.campaign, Audience.PARENTS)
    db.session.commit()
    victim = {"pid": None}
    started = threading.Event()

    def accept_then_kill(recorder, request):
        answer = fakes.sendgrid(recorder, request)
        started.wait(10)
        if answer[0] == 202 and victim["pid"]:
            # Accepted and recorded by "SendGrid"; the worker dies before it hears back.
            os.kill(victim["pid"], signal.SIGKILL)
            victim["pid"] = None
        return answer

    with fakes.serve(accept_then_kill) as (url, recorder):
        # `campaign send` in its own process, as a worker on another machine runs it.
        proc = subprocess.Popen(
            SEND,
            env=worker_env(database_url, url, app.config["LETTER_STORE"]),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        victim["pid"] = proc.pid
        started.set()
        proc.wait(timeout=120)
        assert proc.returncode == -signal.SIGKILL
        (accepted,) = recorder.accepted  # exactly one message reached SendGrid
        db.session.expire_all()
        states = {m.id: m.state for m in db.session.scalars(select(Message))}
        assert states[int(accepted)] is MessageState.SENDING  # the database never heard

        # Restarted: nothing is sent twice (nor, yet, at all: the claimed messages are in doubt).
        again = subprocess.run(
            SEND,
            env=worker_env(database_url, url, app.config["LETTER_STORE"]),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 0, again.stderr
        assert recorder.accepted == {accepted: 1}

        # SendGrid's processed event, with our id, settles the accepted message ...
        body = json.dumps(
            [
                {
                    "event": "processed",
                    "message_id": accepted,
                    "sg_event_id": "e1",
                    "timestamp": int(time.time()),
                    "email": "x@y.example",
                }
            ]
        ).encode()
        assert (
            client.post(
                "/webhooks/sendgrid", data=body, headers=signer.headers(body, int(time.time()))
            ).status_code
            == 200
        )
        db.session.expire_all()
        assert db.session.get(Message, int(accepted)).state is MessageState.SENT

        # ... and the lead sends the rest, which SendGrid never had, again.
        app.config["SEND_IN_DOUBT_MINUTES"] = 0
        app.config.update(SENDGRID_API_KEY=fakes.SENDGRID_KEY, SENDGRID_API_HOST=url)
        assert send_in_doubt_again(closed.campaign.id, Audience.PARENTS) == len(states) - 1
        db.session.commit()
        send_ready(closed.campaign.id, Audience.PARENTS)
    db.session.expire_all()
    assert {m.state for m in db.session.scalars(select(Message))} == {MessageState.SENT}
    assert len(recorder.accepted) == len(states) and set(recorder.accepted.values()) == {1}
