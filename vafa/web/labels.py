"""Names of the kernel's stored codes (roles, SMS statuses, audit actions) as people
read them. Domains declare their own groups in their `Domain`; the composition root
merges them with these into the template globals of the same names.

Marked with N_ so the catalogs carry them; templates translate at render time.
"""

from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup

from vafa.i18n import N_, current_language, direction, gettext
from vafa.i18n.formatting import format_number
from vafa.money import CURRENCY_LABELS

ROLE_LABELS = {
    "owner": N_("Owner"),
    "manager": N_("Manager"),
    "agent": N_("Agent"),
    "analyst": N_("Analyst"),
    "cashier": N_("Cashier"),
}
SMS_STATUS_LABELS = {
    "pending": N_("Waiting"),
    "sending": N_("Sending"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "expired": N_("Expired"),
}
# Kavenegar's message statuses, as its delivery reports and status calls give them.
DELIVERY_LABELS = {
    "1": N_("With the operator"),
    "2": N_("With the operator"),
    "4": N_("With the operator"),
    "5": N_("With the operator"),
    "6": N_("Not delivered"),
    "10": N_("Delivered"),
    "11": N_("Not delivered"),
    "13": N_("Cancelled"),
    "14": N_("Blocked as advertising"),
}
AUDIT_ACTION_LABELS = {
    "staff.create": N_("Staff member added"),
    "staff.update": N_("Staff member changed"),
    "staff.password": N_("Password set"),
    "staff.login": N_("Staff login"),
    "club.update": N_("Club settings changed"),
}
OBJECT_LABELS = {"staff": N_("Staff member"), "club": N_("Club")}
FIELD_LABELS = {
    "username": N_("Username"),
    "role": N_("Role"),
    "active": N_("Active"),
    "name": N_("Name"),
    "reason": N_("Reason"),
    "currency": N_("Money is shown in"),
}

# The groups every template sees; a domain's `labels` add to them.
KERNEL_LABELS: dict[str, dict[str, str]] = {
    "role_labels": ROLE_LABELS,
    "status_labels": SMS_STATUS_LABELS,
    "delivery_labels": DELIVERY_LABELS,
    "action_labels": AUDIT_ACTION_LABELS,
    "object_labels": OBJECT_LABELS,
    "field_labels": FIELD_LABELS,
    "currency_labels": dict(CURRENCY_LABELS),
}


def merge_labels(*groups: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for group in groups:
        for name, entries in group.items():
            merged.setdefault(name, {}).update(entries)
    return merged


# Values that are codes or account names: they read left to right in any language.
LEFT_TO_RIGHT_VALUES = frozenset({"username", "receipt", "code"})
# Values that are money, in stored units (Rials or Drams): shown in the club's unit.
MONEY_VALUES = frozenset(
    {"amount", "rials_per_point", "earn_rials_per_point", "redeem_rials_per_point"}
)


def _value(
    key: str,
    value: object,
    names: Mapping[str, str] | None = None,
    money: Callable[[int], str] | None = None,
) -> Markup:
    """One value of an audit entry as the page's language writes it, isolated in <bdi>
    so that Latin names, digits and minus signs keep their place in a Persian line."""
    if value is None or value == "":
        return Markup("—")
    if money is not None and key in MONEY_VALUES and type(value) is int:
        text = money(value)
    elif isinstance(value, bool):
        text = gettext(N_("Yes")) if value else gettext(N_("No"))
    elif isinstance(value, int):
        text = format_number(value, current_language.get())
    elif key == "role" and isinstance(value, str) and value in ROLE_LABELS:
        text = gettext(ROLE_LABELS[value])
    elif names is not None and isinstance(value, str) and value in names:
        text = gettext(names[value])
    elif key in LEFT_TO_RIGHT_VALUES:
        return Markup('<bdi dir="ltr">{}</bdi>').format(value)
    else:
        text = str(value)
    return Markup("<bdi>{}</bdi>").format(text)


def _names(
    key: str, labels: Mapping[str, Mapping[str, str]], object_type: str | None
) -> Mapping[str, str] | None:
    """The label group for a field's coded values, by the groups' naming convention:
    `expire_at` → `expire_at_labels`, a rule's `kind` → `rule_kind_labels`."""
    if object_type and f"{object_type}_{key}_labels" in labels:
        return labels[f"{object_type}_{key}_labels"]
    return labels.get(f"{key}_labels")


def audit_details(
    details: dict[str, Any] | None,
    fields: Mapping[str, str],
    *,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    object_type: str | None = None,
    money: Callable[[int], str] | None = None,
) -> list[Markup]:
    """An audit entry's details as translated 'Field: value' lines; changes as
    'Field: old → new', the arrow pointing from the old value to the new one in the
    page's direction (← in Persian, read right to left)."""
    if not details:
        return []
    groups = labels or {}

    def value(key: str, raw: object) -> Markup:
        return _value(key, raw, _names(key, groups, object_type), money)

    lines = []
    if "before" in details and "after" in details:
        before, after = details["before"] or {}, details["after"] or {}
        arrow = "←" if direction(current_language.get()) == "rtl" else "→"
        for key, new in after.items():
            if before.get(key) != new:
                label = gettext(fields.get(key, key))
                lines.append(
                    Markup("{}: {} {} {}").format(
                        label, value(key, before.get(key)), arrow, value(key, new)
                    )
                )
        return lines
    for key, raw in details.items():
        lines.append(Markup("{}: {}").format(gettext(fields.get(key, key)), value(key, raw)))
    return lines
