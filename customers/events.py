"""What happens to a customer record, for the domains above to react to (in the same
transaction)."""

from __future__ import annotations

from dataclasses import dataclass

from vafa.events import Event


@dataclass(frozen=True)
class MemberJoined(Event):
    customer_id: int
    source: str = "portal"  # where: "portal" (first login), "counter" or "partner" (a purchase), "sms"


@dataclass(frozen=True)
class ProfileCompleted(Event):
    """The member's profile has their name and birthday (sent on every such save;
    reactions must be idempotent)."""

    customer_id: int
