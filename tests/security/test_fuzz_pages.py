"""Fuzz every page's address and query: each GET route of the URL map, as the lead,
a head and a visitor, with odd path values (slugs, tokens, ids) and any query (the
search `q`, the filters, page numbers, ids, `next`): never a 5xx, and nothing written."""

from __future__ import annotations

from flask import url_for
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.routing.converters import NumberConverter

from tests.security.fuzzing import URNS, World, anything, examples, nasty_text, sometimes

PAGE_EXAMPLES = 15
QUERY_KEYS = ["q", "la", "constituency", "page", "a", "b", "next", "audience", "urn", "id"]
ids = st.one_of(st.sampled_from([1, 2, 3, *URNS]), st.integers(1, 2**31 - 1))
PATH_VALUES = {
    "slug": sometimes(st.just("assoc-a"), nasty_text),
    "aslug": sometimes(st.just("assoc-a"), nasty_text),
    "cslug": sometimes(st.sampled_from(["drafting", "consulting", "signing"]), nasty_text),
    "audience": sometimes(st.sampled_from(["mps", "parents"]), nasty_text),
}


def _get_rules(app) -> list:
    return sorted(
        (r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint != "static"),
        key=lambda r: r.rule,
    )


@examples(PAGE_EXAMPLES)
@given(data=st.data())
def test_no_page_gives_a_server_error_whatever_its_address_and_query(world: World, data):
    """Each example is one identity, one set of path values and one query, tried on
    every page: a GET answers below 500 and writes nothing."""
    who = data.draw(st.sampled_from(["lead", "head", "anonymous"]), label="who")
    values = {"token": data.draw(sometimes(st.just(world.ids["token"]), nasty_text), "token")}
    values |= {name: data.draw(strategy, label=name) for name, strategy in PATH_VALUES.items()}
    query = data.draw(st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_KEYS), nasty_text),
                                         anything), max_size=4), label="query")  # fmt: skip
    client = world.client(who)
    try:
        for rule in _get_rules(world.app):
            args = {}
            for name in rule.arguments:
                if isinstance(rule._converters.get(name), NumberConverter):
                    args[name] = data.draw(ids, label=name)
                else:
                    args[name] = values[name]
            with world.app.test_request_context():
                path = url_for(rule.endpoint, **args)
            response = client.get(path, query_string=MultiDict(query))
            assert response.status_code < 500, (response.status_code, path)
        assert world.dump() == world.snapshot, "a GET changed the data"
    finally:
        world.reset()
