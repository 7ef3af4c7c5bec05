"""Development only: read the file outbox in the browser, to click sign-in links."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, current_app, render_template

bp = Blueprint("devtools", __name__, url_prefix="/dev")
LINK = re.compile(r"https?://\S+")


@bp.get("/outbox")
def outbox():
    directory = Path(current_app.config["OUTBOX_DIR"])
    messages = []
    for path in sorted(directory.glob("*.eml"), reverse=True)[:50]:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body else ""
        messages.append(
            {
                "name": path.name,
                "to": message["To"],
                "subject": message["Subject"],
                "date": message["Date"],
                "text": text,
                "links": LINK.findall(text),
            }
        )
    return render_template("devtools/outbox.html", messages=messages)
