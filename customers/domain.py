"""The customers domain: records, consent, notes, search and the one timeline."""

from customers import demo, queries
from customers.web.admin import CustomersController
from customers.web.portal import ProfileController
from vafa.domain import Domain, NavEntry
from vafa.i18n import N_
from vafa.permissions import Permission

DOMAIN = Domain(
    name="customers",
    portal=(ProfileController,),
    admin=(CustomersController,),
    portal_nav=(NavEntry("/profile", N_("Profile"), order=90),),
    admin_nav=(NavEntry("/admin/customers", N_("Customers"), Permission.CUSTOMERS_READ, 10),),
    labels={
        "action_labels": {"customer.note": N_("Note added")},
        "object_labels": {"customer": N_("Member")},
    },
    demo=demo.seed,
    timeline=queries.own_timeline,
)
