"""The composition root: the only code that imports the domains and the fronts.

`DOMAINS` lists every domain package once, lower ones first (their event subscribers
and timeline items come in this order). Adding a domain is: create its package with a
`domain.py` that declares `DOMAIN`, and add its name here.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cache

from vafa.domain import Composition, Domain

DOMAINS: tuple[str, ...] = (
    "customers",
    "loyalty",
    "sms_codes",
    "partners",
)


def load(names: Sequence[str] = DOMAINS) -> list[Domain]:
    """Each package's declaration (importing it registers its tables too)."""
    return [importlib.import_module(f"{name}.domain").DOMAIN for name in names]


@cache
def composition() -> Composition:
    import admin.web  # noqa: F401  (the fronts' tables and pages)
    import portal.web  # noqa: F401

    return Composition(load())
