"""The member's partners page: where the club's points are earned and spent, and the
one-time code a member shows at a partner's till."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from loyalty.web.portal import qr_data_uri
from partners import member_queries, till
from vafa.database import DB
from vafa.i18n import current_language
from vafa.i18n.formatting import format_time
from vafa.web.deps import AppSettings

Member = Request[Any, Any, Any]  # request.user is the logged-in Customer

# The code is on this page only: not cached, never stored in clear, never in a URL.
NO_STORE = {"cache-control": "no-store"}


def grouped(code: str) -> str:
    """The code in threes, as a cashier reads it: 012 345 678 9."""
    return " ".join(code[i : i + 3] for i in range(0, len(code), 3))


class PartnersController(Controller):
    path = "/partners"
    include_in_schema = False

    @get("/")
    async def partners(self, request: Member, db: DB) -> Template:
        return Template(
            "partners/portal/partners.html",
            context={"partners": await member_queries.member_partners(db, current_language.get())},
        )

    @post("/code")
    async def code(self, request: Member, db: DB, settings: AppSettings) -> Template:
        """A new code to show at a till; the one before stops working."""
        shown = await till.new_member_code(db, settings, request.user.id)
        return Template(
            "partners/portal/code.html",
            context={
                "code": grouped(shown.code),
                "qr": qr_data_uri(shown.code),
                "until": format_time(shown.expires_at, current_language.get(), settings.timezone),
                "minutes": int(till.MEMBER_CODE_TTL.total_seconds() // 60),
            },
            headers=NO_STORE,
        )

    @get("/code")
    async def code_again(self) -> Redirect:
        """The code page was a POST's answer: going back to it asks for a new code."""
        return Redirect("/partners")


CONTROLLERS = (PartnersController,)
