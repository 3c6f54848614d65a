"""SMS codes: people text a word to the business's line and get an automatic reply
(the business card, a coupon, their points), join the club, or opt out; every sender
becomes a contact for later campaigns."""

from sms_codes import demo, labels
from sms_codes.cli import sms
from sms_codes.jobs import JOBS
from sms_codes.timeline import timeline
from sms_codes.web.hooks import HOOKS
from vafa.domain import Domain

DOMAIN = Domain(
    name="sms_codes",
    hooks=HOOKS,
    labels=labels.LABELS,
    jobs=JOBS,
    commands=(sms,),
    demo=demo.seed,
    timeline=timeline,
)
