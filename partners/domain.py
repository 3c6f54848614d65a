"""Partners: businesses where members earn and spend the club's points, the API their
tills call, cashiers' logins, and settlement with each partner."""

from partners import labels
from partners.cli import partner
from partners.web import api
from vafa.domain import Domain

DOMAIN = Domain(
    name="partners",
    uses=("loyalty",),
    api=api.CONTROLLERS,
    labels=labels.LABELS,
    commands=(partner,),
)
