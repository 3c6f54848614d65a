"""The `Actor` behind a web request, with the client's address for the audit log."""

from __future__ import annotations

from typing import Any

from litestar import Request

from vafa.actor import Actor
from vafa.security.sessions import client_ip


def _address(request: Request[Any, Any, Any]) -> str:
    return client_ip(request, request.app.state.settings)


def staff_actor(request: Request[Any, Any, Any]) -> Actor:
    return Actor.staff(request.user.id, _address(request))


def customer_actor(request: Request[Any, Any, Any]) -> Actor:
    return Actor.customer(request.user.id, _address(request))
