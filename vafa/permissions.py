"""Staff roles and what each may do: one table, read by the route guards and by the
templates' `can(...)`. Domains guard their handlers with `requires(Permission.X)`."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    AGENT = "agent"  # at the counter
    ANALYST = "analyst"  # reads, changes nothing
    CASHIER = "cashier"  # at one partner's till, bound to that partner


class Permission(StrEnum):
    STAFF_MANAGE = "staff.manage"
    AUDIT_READ = "audit.read"
    SMS_READ = "sms.read"
    SETUP_READ = "setup.read"  # see the club's settings, rules, tiers, rewards
    SETUP_MANAGE = "setup.manage"  # change them
    COUNTER = "counter"  # purchases, returns, vouchers at the till
    CUSTOMERS_READ = "customers.read"
    CUSTOMERS_NOTE = "customers.note"  # write notes on a customer's record
    POINTS_ADJUST = "points.adjust"  # give or take points by hand
    TILL = "till"  # earn and redeem for members at a partner's till (the club's own included)
    DASHBOARD = "dashboard"  # the staff home page: the club's numbers


P = Permission
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.MANAGER: frozenset(
        {
            P.AUDIT_READ,
            P.SMS_READ,
            P.SETUP_READ,
            P.SETUP_MANAGE,
            P.COUNTER,
            P.CUSTOMERS_READ,
            P.CUSTOMERS_NOTE,
            P.POINTS_ADJUST,
            P.TILL,
            P.DASHBOARD,
        }
    ),
    Role.AGENT: frozenset(
        {P.SMS_READ, P.COUNTER, P.CUSTOMERS_READ, P.CUSTOMERS_NOTE, P.TILL, P.DASHBOARD}
    ),
    Role.ANALYST: frozenset({P.SETUP_READ, P.CUSTOMERS_READ, P.DASHBOARD}),
    # Sees only the till of the partner it is bound to, and no member records.
    Role.CASHIER: frozenset({P.TILL}),
}


def allowed(role: str | None, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)] if role else False
    except ValueError:  # a role this version does not know
        return False


def user_can(user: Any, permission: Permission) -> bool:
    return allowed(getattr(user, "role", None), permission)


def requires(permission: Permission) -> Any:
    """A route guard: the logged-in staff member's role must grant `permission`."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not user_can(connection.scope.get("user"), permission):
            raise PermissionDeniedException("not permitted")

    guard.__name__ = f"requires_{permission.name.lower()}"
    return guard
