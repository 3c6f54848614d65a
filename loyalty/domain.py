"""The points engine: ledger, earning rules, purchases and returns, tiers, rewards
and vouchers, and its jobs."""

from loyalty import demo, labels, queries, rewards, tiers
from loyalty.cli import ledger
from loyalty.jobs import JOBS
from loyalty.reactions import SUBSCRIPTIONS
from loyalty.timeline import timeline
from loyalty.web import admin, portal
from vafa.domain import Domain, NavEntry
from vafa.i18n import N_
from vafa.permissions import Permission
from vafa.web.templating import in_language

DOMAIN = Domain(
    name="loyalty",
    portal=portal.CONTROLLERS,
    admin=admin.CONTROLLERS,
    portal_nav=(
        NavEntry("/", N_("Home"), order=10),
        NavEntry("/rewards", N_("Rewards"), order=20),
        NavEntry("/points/history", N_("History"), order=30, match="/points"),
    ),
    admin_nav=(
        NavEntry("/admin/purchases", N_("Purchases"), Permission.CUSTOMERS_READ, 20),
        NavEntry("/admin/vouchers", N_("Vouchers"), Permission.CUSTOMERS_READ, 21),
        NavEntry("/admin/members", N_("Members"), Permission.CUSTOMERS_READ, 22),
        NavEntry("/admin/rules", N_("Earning rules"), Permission.SETUP_READ, 30),
        NavEntry("/admin/rewards", N_("Rewards"), Permission.SETUP_READ, 31),
        NavEntry("/admin/tiers", N_("Tiers"), Permission.SETUP_READ, 32),
        NavEntry("/admin/programme", N_("Points settings"), Permission.SETUP_READ, 33),
    ),
    labels=labels.LABELS,
    template_helpers={
        "tier_name": in_language(tiers.tier_name),
        "reward_title": in_language(rewards.title),
        "reward_description": in_language(rewards.description),
    },
    jobs=JOBS,
    commands=(ledger,),
    demo=demo.seed,
    subscriptions=SUBSCRIPTIONS,
    timeline=timeline,
    member_facts=queries.member_facts,
)
