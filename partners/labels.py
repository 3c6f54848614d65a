"""Names of the partners domain's stored codes, in the reader's language."""

from vafa.i18n import N_

CATEGORY_LABELS = {
    "food": N_("Restaurant"),
    "cafe": N_("Café"),
    "grocery": N_("Grocery"),
    "fashion": N_("Clothing"),
    "beauty": N_("Beauty"),
    "health": N_("Health"),
    "electronics": N_("Electronics"),
    "home": N_("Home"),
    "leisure": N_("Leisure"),
    "services": N_("Services"),
    "other": N_("Other"),
}
# The name fields of a partner's form, one per language.
NAME_FIELDS = {
    "fa": N_("Name in Persian"),
    "hy": N_("Name in Armenian"),
    "en": N_("Name in English"),
}
TRANSACTION_LABELS = {
    "earn": N_("Earned"),
    "redeem": N_("Spent"),
    "reverse": N_("Reversed"),
}
LABELS = {
    "partner_category_labels": CATEGORY_LABELS,
    "partner_transaction_labels": TRANSACTION_LABELS,
    "object_labels": {"partner": N_("Partner")},
    "action_labels": {
        "partner.create": N_("Partner added"),
        "partner.update": N_("Partner changed"),
        "partner.key_create": N_("Partner API key made"),
        "partner.key_revoke": N_("Partner API key revoked"),
        "partner.cashier_add": N_("Cashier added"),
        "partner.settle": N_("Settlement period closed"),
    },
    "field_labels": {
        "earn_rials_per_point": N_("Partner pays per point earned"),
        "redeem_rials_per_point": N_("Club pays per point spent"),
        "commission_bp": N_("Commission (basis points)"),
        "first_day": N_("First day"),
        "last_day": N_("Last day"),
        "prefix": N_("Key"),
    },
}
