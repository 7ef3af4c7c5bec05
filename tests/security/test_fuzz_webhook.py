"""Fuzz SendGrid's event webhook with validly signed bodies: JSON of any shape, depth
and number, events whose fields are of any type, and bytes that are no JSON. The
answer is never a 5xx, and a body refused as a whole writes nothing."""

from __future__ import annotations

import json
import time

from hypothesis import event, given
from hypothesis import strategies as st

from tests.fakes import WebhookSigner
from tests.security.fuzzing import World, anything, examples, nasty_text, sometimes

WEBHOOK_EXAMPLES = 60
KINDS = ["processed", "delivered", "bounce", "dropped", "deferred", "open", "click",
         "spamreport", "unsubscribe", "group_unsubscribe", "blocked"]  # fmt: skip

# Python cannot write an int of more than 4,300 digits: a longer one is among the
# bodies below, as bytes.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats() | nasty_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty_text, inner, max_size=3),
    max_leaves=12,
)
NASTY_BODIES = [b"", b"[", b"{}", b"null", b"[Infinity]", b'[{"message_id": NaN}]',
                b"[1e999]", b"[" + b"9" * 5000 + b"]", b"[" * 100_000 + b"]" * 100_000,
                b'[{"event": "delivered", "message_id": "1"}]\x00', b"\xff\xfe[]"]  # fmt: skip


def events(message_ids: list[int]) -> st.SearchStrategy[dict]:
    """Events as SendGrid sends them, about our messages, each field now and then of
    another type (and a body may hold values that are no event at all)."""
    ours = st.sampled_from([str(i) for i in message_ids])
    return st.fixed_dictionaries(
        {
            "event": sometimes(st.sampled_from(KINDS), json_values),
            "message_id": sometimes(st.one_of(ours, st.just("999999")), json_values),
        },
        optional={
            "sg_event_id": sometimes(
                st.from_regex(r"ev-[a-z0-9]{1,12}", fullmatch=True), json_values
            ),
            "sg_message_id": sometimes(st.sampled_from(["provider-1.filter1", "x"]), json_values),
            "email": sometimes(st.emails(), json_values),
            "timestamp": sometimes(st.integers(0, 2**33), json_values),
            "type": sometimes(st.sampled_from(["bounce", "blocked"]), json_values),
            "reason": anything,
        },
    )


def bodies(message_ids: list[int]) -> st.SearchStrategy[bytes]:
    def encoded(value) -> bytes:
        return json.dumps(value).encode()

    return st.one_of(
        st.lists(st.one_of(events(message_ids), json_values), max_size=6).map(encoded),
        st.sampled_from(NASTY_BODIES),
        st.binary(max_size=200),  # not UTF-8 mostly: the signature check refuses it (403)
        json_values.map(encoded),
    )


@examples(WEBHOOK_EXAMPLES)
@given(data=st.data())
def test_no_signed_webhook_post_gives_a_server_error(world: World, data):
    body = data.draw(bodies(world.ids["messages"]), label="body")
    signer = WebhookSigner()
    world.app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = signer.public_key
    try:
        response = world.client("anonymous").post(
            "/webhooks/sendgrid", data=body, headers=signer.headers(body, int(time.time()))
        )
        assert response.status_code < 500, response.status_code
        event(f"answered {response.status_code}")
        if response.status_code != 200:
            assert world.dump() == world.snapshot, "a refused post wrote rows"
        elif response.json["recorded"]:
            event("events recorded")
    finally:
        world.reset()
