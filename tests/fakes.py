"""Local HTTP servers that speak the APIs we call, for tests that must not touch
the internet: SendGrid's v3 Mail Send and Parliament's Members API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Recorder:
    """What a fake server received, and how it should answer next."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 202
        self.body: dict | None = None


@contextmanager
def serve(handle) -> Iterator[tuple[str, Recorder]]:
    """Run `handle(recorder, method, path, query, headers, body) -> (status, headers, body)`
    on 127.0.0.1 at a free port; yield its base URL and the recorder."""
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            parsed = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            recorder.requests.append(
                {
                    "method": self.command,
                    "path": parsed.path,
                    "query": query,
                    "headers": dict(self.headers),
                    "json": json.loads(raw) if raw else None,
                }
            )
            status, headers, body = handle(recorder, self.command, parsed.path, query)
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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def sendgrid(recorder, method, path, query):
    """POST /v3/mail/send: 202 with an X-Message-Id, or the status the test set."""
    if method != "POST" or path != "/v3/mail/send":
        return 404, {}, {"errors": [{"message": "not found"}]}
    auth = recorder.requests[-1]["headers"].get("Authorization", "")
    if auth != "Bearer SG.test-key":
        return 401, {}, {"errors": [{"message": "authorization required"}]}
    if recorder.status != 202:
        return recorder.status, {}, recorder.body or {"errors": [{"message": "refused"}]}
    return 202, {"X-Message-Id": f"msg-{len(recorder.requests)}"}, None


def members_api(members: list[dict], contacts: dict[int, list[dict]], fail: bool = False):
    """Parliament's Members API in its recorded shape: Search (paged) and Contact."""

    def handle(recorder, method, path, query):
        if fail:
            return 500, {}, {"title": "Internal Server Error"}
        if path == "/api/Members/Search":
            skip, take = int(query.get("skip", 0)), int(query.get("take", 20))
            page = members[skip : skip + take]
            return (
                200,
                {},
                {
                    "items": [{"value": m, "links": []} for m in page],
                    "totalResults": len(members),
                    "resultContext": "",
                    "skip": skip,
                    "take": take,
                    "links": [],
                },
            )
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[:2] == ["api", "Members"] and parts[3] == "Contact":
            return 200, {}, {"value": contacts.get(int(parts[2]), []), "links": []}
        return 404, {}, {"title": "Not Found"}

    return handle
