"""Names of stored codes (roles, statuses, audit actions) as people read them.

Marked with N_ so the catalogs carry them; templates translate at render time.
"""

from vafa.i18n import N_

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
