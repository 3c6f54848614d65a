"""Names of stored codes (roles, statuses, audit actions) as people read them.

Marked with N_ so the catalogs carry them; templates translate at render time.
"""

from typing import Any

from vafa.i18n import N_, gettext

ROLE_LABELS = {
    "owner": N_("Owner"),
    "manager": N_("Manager"),
    "agent": N_("Agent"),
    "analyst": N_("Analyst"),
}
SMS_STATUS_LABELS = {
    "pending": N_("Waiting"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "expired": N_("Expired"),
}
AUDIT_ACTION_LABELS = {
    "staff.create": N_("Staff member added"),
    "staff.update": N_("Staff member changed"),
    "staff.password": N_("Password set"),
    "staff.login": N_("Staff login"),
    "programme.update": N_("Points settings changed"),
    "rule.create": N_("Earning rule added"),
    "rule.activate": N_("Earning rule switched on"),
    "rule.deactivate": N_("Earning rule switched off"),
    "tier.create": N_("Tier added"),
    "tier.update": N_("Tier changed"),
    "reward.create": N_("Reward added"),
    "reward.update": N_("Reward changed"),
    "purchase.record": N_("Purchase recorded"),
    "purchase.refund": N_("Return recorded"),
    "voucher.use": N_("Voucher used"),
    "points.adjust": N_("Points adjusted"),
}
ENTRY_KIND_LABELS = {
    "earn": N_("Points earned"),
    "redeem": N_("Reward taken"),
    "expire": N_("Points expired"),
    "reverse": N_("Points returned or taken back"),
    "adjust": N_("Adjustment by the club"),
    "transfer": N_("Points arrived"),
}
HISTORY_FILTER_LABELS = {
    "earn": N_("Earned"),
    "spend": N_("Spent"),
    "expire": N_("Expired"),
    "return": N_("Returns"),
}
VOUCHER_STATUS_LABELS = {
    "issued": N_("Ready to use"),
    "used": N_("Used"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Expired"),
}
OBJECT_LABELS = {
    "staff": N_("Staff member"),
    "customer": N_("Member"),
    "programme": N_("Points settings"),
    "rule": N_("Earning rule"),
    "tier": N_("Tier"),
    "reward": N_("Reward"),
    "purchase": N_("Purchase"),
    "voucher": N_("Voucher"),
}
FIELD_LABELS = {
    "username": N_("Username"),
    "role": N_("Role"),
    "active": N_("Active"),
    "points": N_("Points"),
    "reason": N_("Reason"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "amount": N_("Amount"),
    "receipt": N_("Receipt number"),
    "code": N_("Code"),
    "rank": N_("Rank"),
    "cost": N_("Cost in points"),
    "expiry_days": N_("Points last (days)"),
    "expire_at": N_("Points expire"),
    "return_policy": N_("Returns after the points were spent"),
    "reminder_days": N_("Reminder before expiry (days)"),
    "tier_window": N_("Tier window"),
    "tier_window_days": N_("Tier window (days)"),
    "tier_grace_days": N_("Grace period before moving down (days)"),
}

# The points engine's stored codes.
RULE_KIND_LABELS = {
    "spend": N_("Spending"),
    "signup": N_("Joining the club"),
    "birthday": N_("Birthday"),
    "profile": N_("Completing the profile"),
    "referral": N_("Bringing a friend"),
    "survey": N_("Answering a survey"),
    "manual": N_("Given by staff"),
}
EXPIRE_AT_LABELS = {
    "day": N_("On the last day of their life"),
    "month": N_("At the end of that month"),
}
RETURN_POLICY_LABELS = {
    "debt": N_("Record a debt, paid from future points"),
    "forgive": N_("Let the member keep them"),
}
TIER_WINDOW_LABELS = {
    "rolling": N_("The last so many days"),
    "calendar": N_("The calendar year"),
}


def _value(key: str, value: object) -> str:
    if key == "role" and isinstance(value, str) and value in ROLE_LABELS:
        return gettext(ROLE_LABELS[value])
    if isinstance(value, bool):
        return gettext(N_("Yes")) if value else gettext(N_("No"))
    return str(value)


def audit_details(details: dict[str, Any] | None) -> list[str]:
    """An audit entry's details as translated 'Field: value' lines; changes as old → new."""
    if not details:
        return []
    lines = []
    if "before" in details and "after" in details:
        before, after = details["before"], details["after"]
        for key, new in after.items():
            if before.get(key) != new:
                label = gettext(FIELD_LABELS.get(key, key))
                lines.append(f"{label}: {_value(key, before.get(key))} → {_value(key, new)}")
        return lines
    for key, value in details.items():
        lines.append(f"{gettext(FIELD_LABELS.get(key, key))}: {_value(key, value)}")
    return lines
