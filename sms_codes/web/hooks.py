"""Kavenegar calls these: incoming SMS forwarded to
`/hooks/sms/kavenegar/<secret>` and delivery reports to `.../<secret>/delivery`, by GET
or POST. The secret in the URL is the authentication (Kavenegar signs nothing); a
wrong one is 404 and stores nothing. A message is answered 200 once it is stored
(once, by its messageid); the process's intake answers it right after
(`sms_codes.intake`), or the worker if the process stopped first."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from litestar import Controller, Request, Response, route
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from sms_codes import inbound
from sms_codes.intake import intake_of
from vafa.database import DB, WRITES
from vafa.errors import UserError
from vafa.i18n import N_
from vafa.i18n.normalize import to_ascii_digits
from vafa.settings import Settings
from vafa.sms import outbox
from vafa.web.deps import AppSettings
from vafa.web.forms import form_data

HOOK_BODY_LIMIT = 64 * 1024  # an SMS and its fields, with room to spare
OPT = {"exclude_from_auth": True, WRITES: True}
Secret = Annotated[str, Parameter(description="the webhook secret")]


async def _params(request: Request[Any, Any, Any]) -> dict[str, str]:
    """GET query parameters and POST form fields alike (Kavenegar uses either)."""
    values = {key: str(value) for key, value in request.query_params.items()}
    if request.method == "POST":
        values.update(await form_data(request))
    return values


def _check(secret: str, settings: Settings) -> None:
    if not hmac.compare_digest(secret.encode(), settings.sms_webhook_secret.encode()):
        raise NotFoundException()


class KavenegarHooks(Controller):
    path = "/sms/kavenegar/{secret:str}"
    include_in_schema = False
    request_max_body_size = HOOK_BODY_LIMIT

    @route("/", http_method=["GET", "POST"], opt=OPT, status_code=200)
    async def incoming(
        self, request: Request[Any, Any, Any], settings: AppSettings, secret: Secret
    ) -> Response[str]:
        _check(secret, settings)
        params = await _params(request)
        message = inbound.clean(
            messageid=params.get("messageid", ""),
            sender=params.get("from", ""),
            to=params.get("to", ""),
            text=params.get("message", ""),
        )
        # Sent again by Kavenegar or not: stored once, answered 200 either way.
        await intake_of(request.app).accept(message)
        return Response("ok", media_type="text/plain")

    @route("/delivery", http_method=["GET", "POST"], opt=OPT, status_code=200)
    async def delivery(
        self, request: Request[Any, Any, Any], db: DB, settings: AppSettings, secret: Secret
    ) -> Response[str]:
        _check(secret, settings)
        params = await _params(request)
        messageid = params.get("messageid", "").strip()
        status = to_ascii_digits(params.get("status", "").strip())
        if not (0 < len(messageid) <= 64 and status.isascii() and status.isdigit()):
            raise UserError(N_("A delivery report needs a message id and a status."))
        await outbox.record_delivery(
            db, provider_message_id=messageid, status=int(status[:4])
        )
        return Response("ok", media_type="text/plain")


HOOKS = (KavenegarHooks,)
