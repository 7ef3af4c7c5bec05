"""Local HTTP servers that speak the APIs we call, for tests that must not touch
the internet: SendGrid's v3 Mail Send (and its signed event webhook) and Parliament's
Members API."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

# handle(recorder, request) -> (status, headers, JSON body or None)
Handle = Callable[["Recorder", dict], tuple[int, dict[str, str], object]]


class Recorder:
    """What a fake server received, and how it should answer next."""

    def __init__(self):
        self.requests: list[dict] = []
        # SendGrid: the status to answer (202 is success) and the error body to send.
        self.status = 202
        self.body: dict | None = None
        # Members API: paths starting with this answer 500.
        self.failing: str | None = None
        # SendGrid: answers to give before the normal one, in order: a status,
        # "timeout" (answer only after `hang` seconds, accepting nothing) or
        # "accept-then-hang" (accept, then answer after `hang` seconds); and latency
        # for every request.
        self.plan: list[int | str] = []
        self.latency = 0.0
        self.hang = 2.0
        self.retry_after: str | None = None
        # Refuse (400) any request carrying one of these message ids.
        self.reject_ids: set[str] = set()
        # Our message ids in the requests the server accepted (202), counted.
        self.accepted: Counter = Counter()
        self.lock = threading.Lock()

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]


class Forgetful(list):
    """A `Recorder.requests` that keeps nothing: a benchmark's thousands of bodies, PDFs
    attached, would not fit in memory (and would be counted as the sender's)."""

    def append(self, _request) -> None:
        pass


@contextmanager
def serve(handle: Handle) -> Iterator[tuple[str, Recorder]]:
    """Run `handle` on 127.0.0.1 at a free port; yield its base URL and the recorder.

    Each request is recorded (method, path, query, headers, parsed JSON body)
    before it is answered, so a client that has its answer sees it recorded.
    """
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parsed = urlparse(self.path)
            request = {
                "method": self.command,
                "path": parsed.path,
                "query": {k: v[0] for k, v in parse_qs(parsed.query).items()},
                "headers": dict(self.headers),
                "json": json.loads(raw) if raw else None,
            }
            recorder.requests.append(request)
            status, headers, body = handle(recorder, request)
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, *args):  # keep test output quiet
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # many parallel senders connect at once

        def handle_error(self, request, client_address):
            # A client that timed out and hung up is what the timeout tests make.
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def refused_url() -> Iterator[str]:
    """A local URL where connections are refused at once: the port is held but not listening."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


SENDGRID_KEY = "SG.test-key"


def sendgrid_errors(body: object) -> list[dict]:
    """What SendGrid's v3 Mail Send would refuse in this body (a subset of its rules)."""
    if not isinstance(body, dict):
        return [{"message": "Bad Request", "field": None}]
    errors = []
    people = body.get("personalizations")
    if not isinstance(people, list) or not 1 <= len(people) <= 1000:
        errors.append({"message": "The personalizations field is required and must have "
                       "at least one personalization.", "field": "personalizations"})  # fmt: skip
        people = []
    for n, person in enumerate(people):
        to = person.get("to")
        if not isinstance(to, list) or not to or not all("@" in t.get("email", "") for t in to):
            errors.append({"message": "The to array is required for all personalization "
                           "objects, and must have at least one email object with a valid "
                           "email address.", "field": f"personalizations.{n}.to"})  # fmt: skip
        for key, value in (person.get("custom_args") or {}).items():
            if not isinstance(value, str):
                errors.append({"message": "Custom args must be strings.",
                               "field": f"personalizations.{n}.custom_args.{key}"})  # fmt: skip
    if "@" not in (body.get("from") or {}).get("email", ""):
        errors.append({"message": "The from email is required.", "field": "from.email"})
    if not body.get("subject") and not all(p.get("subject") for p in people):
        errors.append({"message": "The subject is required.", "field": "subject"})
    content = body.get("content") or []
    if not content or content[0].get("type") != "text/plain":
        errors.append({"message": "The content must start with text/plain.", "field": "content"})
    for n, attachment in enumerate(body.get("attachments") or []):
        if not attachment.get("filename") or not attachment.get("content"):
            errors.append({"message": "Attachments need a filename and content.",
                           "field": f"attachments.{n}"})  # fmt: skip
    return errors


def message_ids(body: object) -> list[str]:
    """Our message ids (custom_args.message_id) in a request, one per personalization."""
    if not isinstance(body, dict):
        return []
    shared = (body.get("custom_args") or {}).get("message_id")
    found = [
        (p.get("custom_args") or {}).get("message_id", shared)
        for p in body.get("personalizations") or []
    ]
    return [found_id for found_id in found if found_id is not None]


def sendgrid(recorder: Recorder, request: dict):
    """POST /v3/mail/send as SendGrid answers it: checks the key and the body's shape,
    202 with an X-Message-Id; or what the test planned (429, 500, a timeout, a 400)."""
    if recorder.latency:
        time.sleep(recorder.latency)
    if request["method"] != "POST" or request["path"] != "/v3/mail/send":
        return 404, {}, {"errors": [{"message": "not found"}]}
    if request["headers"].get("Authorization") != f"Bearer {SENDGRID_KEY}":
        return 401, {}, {"errors": [{"field": None, "message": "authorization required"}]}
    with recorder.lock:
        planned = recorder.plan.pop(0) if recorder.plan else None
    if planned == "timeout":  # too slow to answer; nothing accepted
        time.sleep(recorder.hang)
        return 503, {}, None
    if planned == "accept-then-hang":  # accepted, but the answer never arrives in time
        with recorder.lock:
            recorder.accepted.update(message_ids(request["json"]))
        time.sleep(recorder.hang)
        return 202, {"X-Message-Id": "late"}, None
    if planned is not None:
        headers = {"Retry-After": recorder.retry_after} if recorder.retry_after else {}
        return planned, headers, {"errors": [{"message": f"planned {planned}"}]}
    if recorder.status != 202:
        return recorder.status, {}, recorder.body or {"errors": [{"message": "refused"}]}
    if errors := sendgrid_errors(request["json"]):
        return 400, {}, {"errors": errors}
    ids = message_ids(request["json"])
    if recorder.reject_ids & set(ids):
        return 400, {}, {"errors": [{"message": "Does not contain a valid address.",
                                     "field": "personalizations.0.to.0.email"}]}  # fmt: skip
    with recorder.lock:
        recorder.accepted.update(ids)
    return 202, {"X-Message-Id": f"msg-{len(recorder.requests)}"}, None


def members_api(members: list[dict], contacts: dict[int, list[dict]], max_take: int = 20):
    """Parliament's Members API in its recorded shape: Search (paged) and Contact.

    Like the real API, Search gives at most `max_take` results a page whatever
    `take` asks for. Paths starting with `recorder.failing` answer 500.
    """

    def handle(recorder: Recorder, request: dict):
        path, query = request["path"], request["query"]
        if recorder.failing and path.startswith(recorder.failing):
            return 500, {}, {"title": "Internal Server Error", "status": 500}
        if path == "/api/Members/Search":
            skip = int(query.get("skip", 0))
            take = min(int(query.get("take", 20)), max_take)
            page = members[skip : skip + take]
            return 200, {}, {
                "items": [{"value": m, "links": _member_links(m["id"])} for m in page],
                "totalResults": len(members),
                "resultContext": "Current members of the House of Commons",
                "skip": skip,
                "take": take,
                "links": [{"rel": "self", "href": "/Members/Search", "method": "GET"}],
            }  # fmt: skip
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["api", "Members"] and parts[3] == "Contact":
            found = contacts.get(int(parts[2]))
            if found is None:
                return 404, {}, {"title": "Not Found", "status": 404}
            return 200, {}, {"value": found, "links": []}
        return 404, {}, {"title": "Not Found", "status": 404}

    return handle


def _member_links(member_id: int) -> list[dict]:
    return [
        {"rel": "self", "href": f"/Members/{member_id}", "method": "GET"},
        {"rel": "overview", "href": f"/Members/{member_id}", "method": "GET"},
        {"rel": "contactInformation", "href": f"/Members/{member_id}/Contact", "method": "GET"},
    ]


class WebhookSigner:
    """Signs event posts as SendGrid does (ECDSA P-256, SHA-256, over timestamp + body)."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int) -> dict[str, str]:
        signature = self.key.sign(str(timestamp).encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": str(timestamp),
            "Content-Type": "application/json",
        }


class EventWebhookPoster:
    """SendGrid's side of the event webhook, played to a running app: a `processed`
    event (our message id in it) for each message the fake accepted, signed, posted
    in batches from a thread of its own, and posted again until the app takes it, as
    SendGrid retries. `settled()` says nothing is waiting to be posted."""

    BATCH = 500

    def __init__(self, url: str, signer: WebhookSigner, every: float = 0.5):
        self.url = urlparse(url)
        self.signer = signer
        self.every = every
        self.pending: list[str] = []
        self.posting = False
        self.posted = 0
        self.refused = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def processed(self, ids: list[str]) -> None:
        with self.lock:
            self.pending.extend(ids)

    def settled(self) -> bool:
        with self.lock:
            return not (self.pending or self.posting)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            with self.lock:
                ids, self.pending = self.pending[: self.BATCH], self.pending[self.BATCH :]
                self.posting = bool(ids)
            if ids and not self._post(ids):
                with self.lock:
                    self.pending[:0] = ids  # tried again at the next turn
            with self.lock:
                self.posting = False

    def _post(self, ids: list[str]) -> bool:
        now = int(time.time())
        events = [
            {"event": "processed", "message_id": i, "timestamp": now,
             "sg_event_id": f"processed-{i}-{time.monotonic_ns()}"}
            for i in ids
        ]  # fmt: skip
        body = json.dumps(events).encode()
        connection = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=30)
        try:
            connection.request("POST", self.url.path, body, self.signer.headers(body, now))
            ok = connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            ok = False
        finally:
            connection.close()
        with self.lock:
            self.posted += len(ids) if ok else 0
            self.refused += not ok
        return ok
