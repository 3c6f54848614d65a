"""Who asked for a change: a staff member, a customer, a partner, or the system (jobs,
the command line, the demo). Every service takes one and records it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    STAFF = "staff"
    CUSTOMER = "customer"
    PARTNER = "partner"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None = None
    address: str | None = None  # the client's IP address, for the audit log

    @classmethod
    def staff(cls, staff_id: int, address: str | None = None) -> Actor:
        return cls(ActorKind.STAFF, staff_id, address)

    @classmethod
    def customer(cls, customer_id: int, address: str | None = None) -> Actor:
        return cls(ActorKind.CUSTOMER, customer_id, address)

    @classmethod
    def partner(cls, partner_id: int, address: str | None = None) -> Actor:
        return cls(ActorKind.PARTNER, partner_id, address)

    @classmethod
    def system(cls, name: str | None = None) -> Actor:
        return cls(ActorKind.SYSTEM, None, name)

    @property
    def label(self) -> str:
        """How rows record who made them (`created_by`, `recorded_by`): `staff:3`."""
        if self.kind is ActorKind.SYSTEM:
            return "system"
        return f"{self.kind}:{self.id}"

    @property
    def staff_id(self) -> int | None:
        return self.id if self.kind is ActorKind.STAFF else None


SYSTEM = Actor.system()
