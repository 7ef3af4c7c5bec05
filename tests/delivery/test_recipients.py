"""A recipient's kind, read from its key in one place."""

from __future__ import annotations

import pytest

from campaign.delivery.models import Message
from campaign.letters.models import Letter, RecipientKind, parse_recipient


@pytest.mark.parametrize(
    ("kind", "parts", "key"),
    [
        (RecipientKind.MP, ("E14001077",), "constituency:E14001077"),
        (RecipientKind.SCHOOL, (900026,), "school:900026"),
        (
            RecipientKind.PARENT,
            (900026, "0123456789abcdef0123"),
            "parent:900026:0123456789abcdef0123",
        ),
    ],
)
def test_a_key_is_made_and_read_back_as_its_kind(kind, parts, key):
    assert kind.key(*parts) == key
    assert parse_recipient(key) == (kind, ":".join(str(part) for part in parts))
    assert Message(recipient=key).kind is kind


def test_a_letter_knows_its_kind_and_the_code_in_its_key():
    letter = Letter(recipient=RecipientKind.SCHOOL.key(900026))
    assert (letter.kind, letter.recipient_code) == (RecipientKind.SCHOOL, "900026")
    mp = Letter(recipient=RecipientKind.MP.key("E14001077"))
    assert (mp.kind, mp.recipient_code) == (RecipientKind.MP, "E14001077")


def test_a_key_of_no_known_kind_is_refused():
    with pytest.raises(ValueError):
        parse_recipient("pupil:900026")
