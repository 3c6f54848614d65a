"""SMS codes: people text a word to the business's line and get an automatic reply
(the business card, a coupon, their points), join the club, or opt out; every sender
becomes a contact for later campaigns."""

from sms_codes import demo, intake, labels, queries
from sms_codes.cli import sms
from sms_codes.jobs import JOBS
from sms_codes.timeline import timeline
from sms_codes.web import admin
from sms_codes.web.hooks import HOOKS
from vafa.domain import Domain, NavEntry
from vafa.i18n import N_
from vafa.permissions import Permission

DOMAIN = Domain(
    name="sms_codes",
    hooks=HOOKS,
    admin=admin.CONTROLLERS,
    admin_nav=(
        NavEntry("/admin/sms-codes", N_("SMS codes"), Permission.SETUP_READ, 40),
        NavEntry("/admin/sms-contacts", N_("SMS contacts"), Permission.CUSTOMERS_READ, 41),
        NavEntry("/admin/sms-coupons", N_("SMS coupons"), Permission.COUNTER, 23),
    ),
    labels=labels.LABELS,
    template_helpers={"chart_data": admin.chart_data},
    jobs=JOBS,
    lifespan=(intake.running,),
    commands=(sms,),
    demo=demo.seed,
    timeline=timeline,
    staff_alerts=(queries.staff_alerts,),
)
