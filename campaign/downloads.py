"""Files the browser saves rather than shows."""

from __future__ import annotations

from flask import Response


def attachment(body: bytes | str, mimetype: str, filename: str) -> Response:
    safe = filename.replace('"', "").replace("\n", " ")
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{safe}"'}
    )
