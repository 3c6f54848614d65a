"""Names of the kernel's stored codes (roles, SMS statuses, audit actions) as people
read them. Domains declare their own groups in their `Domain`; the composition root
merges them with these into the template globals of the same names.

Marked with N_ so the catalogs carry them; templates translate at render time.
"""

from collections.abc import Mapping
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
}
OBJECT_LABELS = {"staff": N_("Staff member")}
FIELD_LABELS = {
    "username": N_("Username"),
    "role": N_("Role"),
    "active": N_("Active"),
    "name": N_("Name"),
    "reason": N_("Reason"),
}

# The groups every template sees; a domain's `labels` add to them.
KERNEL_LABELS: dict[str, dict[str, str]] = {
    "role_labels": ROLE_LABELS,
    "status_labels": SMS_STATUS_LABELS,
    "action_labels": AUDIT_ACTION_LABELS,
    "object_labels": OBJECT_LABELS,
    "field_labels": FIELD_LABELS,
}


def merge_labels(*groups: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for group in groups:
        for name, entries in group.items():
            merged.setdefault(name, {}).update(entries)
    return merged


def _value(key: str, value: object) -> str:
    if key == "role" and isinstance(value, str) and value in ROLE_LABELS:
        return gettext(ROLE_LABELS[value])
    if isinstance(value, bool):
        return gettext(N_("Yes")) if value else gettext(N_("No"))
    return str(value)


def audit_details(details: dict[str, Any] | None, fields: Mapping[str, str]) -> list[str]:
    """An audit entry's details as translated 'Field: value' lines; changes as old → new."""
    if not details:
        return []
    lines = []
    if "before" in details and "after" in details:
        before, after = details["before"], details["after"]
        for key, new in after.items():
            if before.get(key) != new:
                label = gettext(fields.get(key, key))
                lines.append(f"{label}: {_value(key, before.get(key))} → {_value(key, new)}")
        return lines
    for key, value in details.items():
        lines.append(f"{gettext(fields.get(key, key))}: {_value(key, value)}")
    return lines
