"""Log lines: JSON, one per line, each with the request id the response carries."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading

import pytest

from campaign.logs import configure, incoming_or_new_id


def lines(captured: str) -> list[dict]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def request_lines(captured: str, path: str) -> list[dict]:
    return [line for line in lines(captured) if line.get("path") == path]


def test_a_request_logs_one_json_line_with_the_id_it_answers_with(client, capsys):
    capsys.readouterr()
    response = client.get("/sign-in")
    [line] = request_lines(capsys.readouterr().err, "/sign-in")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    assert line["request_id"] == request_id
    assert line["logger"] == "campaign.request" and line["level"] == "INFO"
    assert (line["method"], line["status"], line["remote_addr"]) == ("GET", 200, "127.0.0.1")
    assert line["duration_ms"] >= 0 and line["time"].endswith("+00:00")


def test_a_sane_incoming_id_is_kept_and_every_record_in_the_request_carries_it(app, capsys):
    @app.get("/log-something")
    def log_something():
        logging.getLogger("campaign.somewhere").warning("Something to say")
        return "ok"

    capsys.readouterr()
    response = app.test_client().get("/log-something", headers={"X-Request-ID": "lb-42.a_b"})
    assert response.headers["X-Request-ID"] == "lb-42.a_b"
    captured = lines(capsys.readouterr().err)
    said = [line for line in captured if line["message"] == "Something to say"]
    assert said[0]["request_id"] == "lb-42.a_b" and said[0]["logger"] == "campaign.somewhere"
    assert request_lines(json.dumps(captured[-1]), "/log-something")[0]["request_id"] == "lb-42.a_b"


@pytest.mark.parametrize(
    "forged", ['x"}{"level": "CRITICAL"', "a b", "ünïcode", "x" * 101, "", "a/../b"]
)
def test_a_forged_or_odd_id_is_replaced(client, capsys, forged):
    capsys.readouterr()
    response = client.get("/sign-in", headers={"X-Request-ID": forged})
    replaced = response.headers["X-Request-ID"]
    assert replaced != forged and len(replaced) == 32
    [line] = request_lines(capsys.readouterr().err, "/sign-in")
    assert line["request_id"] == replaced


def test_a_token_in_the_path_is_not_logged(client, capsys):
    capsys.readouterr()
    client.get("/sign-in/not-a-real-token-but-secret")
    captured = capsys.readouterr().err
    assert "not-a-real-token-but-secret" not in captured
    assert [line["path"] for line in lines(captured) if "path" in line] == ["/sign-in/<token>"]


def test_health_checks_log_at_debug_only(client, capsys):
    capsys.readouterr()
    client.get("/healthz")
    assert request_lines(capsys.readouterr().err, "/healthz") == []


def test_outside_a_request_the_id_is_a_dash_and_text_format_reads_plainly(app, capsys):
    try:
        configure("text", "INFO")
        logging.getLogger("campaign.worker").info("Started")
        assert capsys.readouterr().err.strip().endswith("INFO campaign.worker [-] Started")
    finally:
        configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])


def test_incoming_ids():
    assert incoming_or_new_id("abc-DEF_1.2") == "abc-DEF_1.2"
    assert incoming_or_new_id(None) != incoming_or_new_id(None)


def test_the_worker_logs_json_lines(tmp_path):
    env = {
        **os.environ,
        "CAMPAIGN_INSTANCE": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'campaign.sqlite3'}",
    }
    env.pop("LOG_FORMAT", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "campaign.cli", "worker", "--concurrency", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    guard = threading.Timer(60, worker.kill)  # a worker that never says it started
    guard.start()
    try:
        seen = []
        for raw in worker.stderr:
            seen.append(json.loads(raw))  # every line is JSON, or this fails
            if seen[-1]["logger"] == "huey.consumer":
                break
        assert "Huey consumer started with 1 thread" in seen[-1]["message"]
        assert seen[-1]["request_id"] == "-" and seen[-1]["level"] == "INFO"
        assert not [line for line in seen if line["logger"].startswith("weasyprint")]
    finally:
        guard.cancel()
        worker.terminate()
        worker.wait(timeout=30)
        worker.stderr.close()


def test_a_server_error_logs_its_traceback_and_its_request_line_under_one_id(make_app, capsys):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/broken")
    def broken():
        raise RuntimeError("the printer is on fire")

    capsys.readouterr()
    response = app.test_client().get("/broken")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    captured = lines(capsys.readouterr().err)
    errors = [line for line in captured if line["level"] == "ERROR"]
    assert errors and {line["request_id"] for line in errors} == {request_id}
    [ours] = [line for line in errors if line["message"].startswith("Unexpected error, reference")]
    assert "RuntimeError: the printer is on fire" in ours["exception"]
    [request] = [line for line in captured if line.get("path") == "/broken"]
    assert (request["status"], request["request_id"]) == (500, request_id)
