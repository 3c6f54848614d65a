"""Idempotency keys of the points engine, built here and nowhere else.

A key names one movement of points: the same key twice moves them once. Keys from
events are derived from what caused them (`purchase:12`); keys a person's form or
device carries are scoped by who asked (`staff:3:...`, `customer:7:...`), so one
asker can never replay or block another's.
"""

from __future__ import annotations

from vafa.actor import Actor


def _asked(actor: Actor, purpose: str, *parts: object) -> str:
    return ":".join((actor.label, purpose, *(str(p) for p in parts)))[:120]


def purchase(purchase_id: int) -> str:
    return f"purchase:{purchase_id}"


def rule_award(key: str, rule_id: int) -> str:
    """One rule's share of an event that earns under several rules."""
    return f"{key}:rule:{rule_id}"


def signup(customer_id: int) -> str:
    return f"signup:{customer_id}"


def profile(customer_id: int) -> str:
    return f"profile:{customer_id}"


def birthday(customer_id: int, year: int) -> str:
    return f"birthday:{customer_id}:{year}"


def referral(friend_id: int, side: str) -> str:
    return f"referral:{friend_id}:{side}"


def redemption(actor: Actor, form_key: str) -> str:
    return _asked(actor, "redeem", form_key)


def adjustment(actor: Actor, customer_id: int, form_key: str) -> str:
    return _asked(actor, "adjust", customer_id, form_key)


def refund(actor: Actor, purchase_id: int, form_key: str) -> str:
    return _asked(actor, "refund", purchase_id, form_key)


def refund_lot(refund_key: str, lot_id: int) -> str:
    return f"{refund_key}:{lot_id}"


def voucher_closed(voucher_id: int, status: str) -> str:
    return f"voucher-{status}:{voucher_id}"


def expiry(lot_id: int, used: int) -> str:
    """A lot expires once for each state of it (points given back later expire too)."""
    return f"expire:{lot_id}:{used}"


def debt_repayment(entry_id: int) -> str:
    return f"debt-repay:{entry_id}"


def part(key: str, account: str) -> str:
    """One of the entries a take-back writes (from pending, wallet, or as a debt)."""
    return f"{key}:{account}"


def release(lot_id: int) -> str:
    return f"release:{lot_id}"


def till_redemption(proof: str, proof_id: int) -> str:
    """Points spent at a partner's till: once per consent (`consent`, or the member's
    own code, `member-code`), each good for one redemption."""
    return f"till-redeem:{proof}:{proof_id}"


def till_redemption_back(entry_id: int) -> str:
    """A redemption at a till given back (the sale was cancelled)."""
    return f"till-redeem-back:{entry_id}"
