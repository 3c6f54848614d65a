"""Names of the SMS codes domain's stored codes, in the staff's language."""

from vafa.i18n import N_

ACTION_LABELS = {
    "card": N_("Business card"),
    "coupon": N_("Coupon"),
    "balance": N_("Points balance"),
    "join": N_("Join the club"),
}
OUTCOME_LABELS = {
    "replied": N_("Answered"),
    "repeat": N_("Repeated code"),
    "unknown": N_("Unknown word"),
    "invited": N_("Invited to join"),
    "sold_out": N_("Coupons all given"),
    "opt_out": N_("Opted out"),
    "opt_in": N_("Subscribed again"),
    "suppressed": N_("Opted out: not sent"),
    "throttled": N_("Too many replies: not sent"),
    "over_budget": N_("Daily budget spent: not sent"),
    "no_reply": N_("No reply"),
    "invalid": N_("Not a mobile number"),
}
LABELS = {
    "code_action_labels": ACTION_LABELS,
    "outcome_labels": OUTCOME_LABELS,
    "field_labels": {"number": N_("Line number")},
    "object_labels": {
        "sms_line": N_("SMS line"),
        "sms_code": N_("SMS code"),
        "sms_coupon": N_("SMS coupon"),
        "sms_contacts": N_("SMS contacts"),
    },
    "action_labels": {
        "sms_line.create": N_("SMS line added"),
        "sms_line.update": N_("SMS line changed"),
        "sms_code.create": N_("SMS code added"),
        "sms_code.update": N_("SMS code changed"),
        "sms_coupon.use": N_("SMS coupon used"),
        "sms_contacts.export": N_("SMS contacts exported"),
    },
}
