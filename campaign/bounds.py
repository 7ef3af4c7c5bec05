"""Input bounds the whole app shares: ids in addresses and queries, NUL characters,
and a route's own limit on the size of what is posted to it.

PostgreSQL's integer holds at most 2^31-1 and its text cannot hold a NUL, so
either one reaching a query is an error there (SQLite fails at 2^63). They are
refused here first: an id out of range is a 404 (no row can have it), a NUL a
400 with a message. Text fields have their own checks in `campaign.forms.Form`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, render_template, request
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # PostgreSQL's integer, the type of every id, URN and number in a path
_DIGITS = re.compile(r"[0-9]{1,10}")

View = TypeVar("View", bound=Callable)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: ASCII digits for a number from 1 to MAX_ID, else
    the route does not match (a 404)."""

    regex = _DIGITS.pattern

    def __init__(self, map, fixed_digits: int = 0, min: int = 1, max: int = MAX_ID, signed=False):
        super().__init__(map, fixed_digits, min=min, max=max, signed=False)


def id_arg(value: str) -> int:
    """An id (or a page number) in a query string: `request.args.get("a", 0,
    type=id_arg)` gives the default for anything but a number from 1 to MAX_ID."""
    if not _DIGITS.fullmatch(value) or not 1 <= int(value) <= MAX_ID:
        raise ValueError(f"not an id: {value[:20]!r}")
    return int(value)


def upload_limit(max_bytes: int) -> Callable[[View], View]:
    """Give a route its own limit on the request body, below MAX_CONTENT_LENGTH. It
    is set before anything reads the body, so a larger post is a 413 unread."""

    def decorate(view: View) -> View:
        view.max_request_bytes = max_bytes  # type: ignore[attr-defined]
        return view

    return decorate


def _apply_upload_limit() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if limit := getattr(view, "max_request_bytes", None):
        request.max_content_length = limit


def _has_nul() -> bool:
    if "\x00" in request.path:
        return True
    if any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        return True
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # A multipart part without a name has the key None.
        return any("\x00" in (k or "") or "\x00" in v for k, v in request.form.items(multi=True))
    return False


def _refuse_nul():
    # Forms say what is wrong with other control characters, field by field; a NUL
    # is refused before any view, so it can never reach a query.
    if _has_nul():
        return render_template(
            "error.html",
            title="Something in the request cannot be read",
            message="The address or the form contained a NUL character, an invisible "
            "character that usually comes from copying out of another program. "
            "Nothing was changed. Go back, type the text again and try again.",
        ), 400
    return None


def init_app(app: Flask) -> None:
    """Bound every `<int:...>` in a route and check every request: call it before the
    extensions (CSRF reads the form, so the upload limit must be set first) and
    before the blueprints (their routes are built with the converter)."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_apply_upload_limit)
    app.before_request(_refuse_nul)
