"""Partners: businesses where members earn and spend the club's points, the API their
tills call, cashiers' logins, and settlement with each partner."""

from partners import demo, labels
from partners.cli import partner
from partners.timeline import timeline
from partners.web import admin, api, portal
from partners.web import till as till_page
from vafa.domain import Domain, NavEntry
from vafa.i18n import N_
from vafa.permissions import Permission

DOMAIN = Domain(
    name="partners",
    uses=("loyalty",),
    api=api.CONTROLLERS,
    admin=(*admin.CONTROLLERS, *till_page.CONTROLLERS),
    portal=portal.CONTROLLERS,
    portal_nav=(NavEntry("/partners", N_("Partners"), order=25),),
    admin_nav=(
        # Current on the list only: settlement's pages are under /admin/partners/ too,
        # and the menu marks every entry whose prefix the page's path starts with.
        NavEntry(
            "/admin/partners", N_("Partners"), Permission.SETUP_READ, 34, match="/admin/partners/list"
        ),
        NavEntry("/admin/partners/settlement", N_("Settlement"), Permission.SETUP_READ, 35),
        NavEntry("/admin/till", N_("Till"), Permission.TILL, 5),
    ),
    labels=labels.LABELS,
    commands=(partner,),
    timeline=timeline,
    demo=demo.seed,
)
