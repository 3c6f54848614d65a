"""The points engine's codes as people read them (template globals of these names)."""

from vafa.i18n import N_

RULE_KIND_LABELS = {
    "spend": N_("Spending"),
    "signup": N_("Joining the club"),
    "birthday": N_("Birthday"),
    "profile": N_("Completing the profile"),
    "referral": N_("Bringing a friend"),
    "survey": N_("Answering a survey"),
    "manual": N_("Given by staff"),
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
CAUSE_LABELS = {
    "purchase": N_("Purchase"),
    "refund": N_("Return of a purchase"),
    "debt": N_("Paid toward a debt"),
    "reward": N_("Reward"),
    "voucher": N_("Voucher given back"),
    **{kind: label for kind, label in RULE_KIND_LABELS.items() if kind != "spend"},
}
NAME_FIELDS = {
    "fa": N_("Name in Persian"),
    "hy": N_("Name in Armenian"),
    "en": N_("Name in English"),
}
TITLE_FIELDS = {
    "fa": N_("Title in Persian"),
    "hy": N_("Title in Armenian"),
    "en": N_("Title in English"),
}
DESCRIPTION_FIELDS = {
    "fa": N_("Description in Persian"),
    "hy": N_("Description in Armenian"),
    "en": N_("Description in English"),
}
AUDIT_ACTION_LABELS = {
    "programme.update": N_("Points settings changed"),
    "rule.create": N_("Earning rule added"),
    "rule.edit": N_("Earning rule changed"),
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
OBJECT_LABELS = {
    "programme": N_("Points settings"),
    "rule": N_("Earning rule"),
    "tier": N_("Tier"),
    "reward": N_("Reward"),
    "purchase": N_("Purchase"),
    "voucher": N_("Voucher"),
}
FIELD_LABELS = {
    "points": N_("Points"),
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
    "purchase_sms": N_("SMS after each purchase"),
    "rials_per_point": N_("Amount for one point"),
}

LABELS = {
    "rule_kind_labels": RULE_KIND_LABELS,
    "entry_kind_labels": ENTRY_KIND_LABELS,
    "history_labels": HISTORY_FILTER_LABELS,
    "voucher_status_labels": VOUCHER_STATUS_LABELS,
    "expire_at_labels": EXPIRE_AT_LABELS,
    "return_policy_labels": RETURN_POLICY_LABELS,
    "tier_window_labels": TIER_WINDOW_LABELS,
    "cause_labels": CAUSE_LABELS,
    "name_fields": NAME_FIELDS,
    "title_fields": TITLE_FIELDS,
    "description_fields": DESCRIPTION_FIELDS,
    "action_labels": AUDIT_ACTION_LABELS,
    "object_labels": OBJECT_LABELS,
    "field_labels": FIELD_LABELS,
}
