"""Every form class the app defines, for the tests that check or fuzz them all."""

from __future__ import annotations

import importlib
import pkgutil

from flask_wtf import FlaskForm

import campaign


def form_classes(*, local: bool = True) -> list[type[FlaskForm]]:
    """Every FlaskForm subclass in campaign's *forms modules; with local=False, not those
    built inside a function (per campaign), which are known by their base."""
    for module in pkgutil.walk_packages(campaign.__path__, "campaign."):
        if module.name.endswith("forms"):
            importlib.import_module(module.name)
    found, todo = [], list(FlaskForm.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("campaign.") and (local or "<locals>" not in cls.__qualname__):
            found.append(cls)
    return found
