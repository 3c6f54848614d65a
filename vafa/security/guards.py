"""Role guards for staff handlers."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler


def require_roles(*roles: str) -> Any:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.scope.get("user")
        if getattr(user, "role", None) not in roles:
            raise PermissionDeniedException("role not allowed")

    guard.__name__ = f"require_{'_'.join(roles)}"
    return guard
