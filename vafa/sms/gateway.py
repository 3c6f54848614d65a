"""SMS gateways: `outbox` (keeps messages on this machine) and `kavenegar`.

A gateway sends one message and tells the worker what happened: a provider id on
success, `RetryLater` for trouble that time or an operator can fix (outage, rate
limit, no credit, a bad key), `Rejected` for a message that can never be sent.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from kavenegar import APIException, HTTPException, KavenegarAPI

from vafa.models import SmsMessage
from vafa.settings import Settings


@dataclass(frozen=True)
class Sent:
    provider_message_id: str | None
    provider_status: int | None = None


class RetryLater(Exception):  # noqa: N818 - reads as an outcome
    """Temporary or operator-fixable failure: try again after a backoff."""


class Rejected(Exception):  # noqa: N818
    """The gateway will never accept this message."""


class SmsGateway(Protocol):
    name: str

    async def send(self, message: SmsMessage) -> Sent: ...


class OutboxGateway:
    """The embedded default: nothing leaves the machine; the outbox row is the message."""

    name = "outbox"

    async def send(self, message: SmsMessage) -> Sent:
        return Sent(provider_message_id=f"outbox-{message.id}", provider_status=None)


# Kavenegar statuses a message itself can never get past; everything else (409 busy,
# 451 too many calls, 418 no credit, 401/403/407 account or key problems an operator
# fixes, 5xx) is retried with backoff so no message is lost to an outage.
KAVENEGAR_REJECTS = frozenset({400, 406, 411, 413, 414, 417, 419, 422, 426, 428, 431, 432, 501})
_STATUS = re.compile(r"APIException\[([0-9]{3})\]\s*(.*)", re.ASCII | re.DOTALL)


def kavenegar_receptor(e164: str) -> str:
    """Kavenegar wants Iranian numbers nationally (0912...) and others with 00."""
    if e164.startswith("+98"):
        return "0" + e164[3:]
    return "00" + e164.lstrip("+")


class KavenegarGateway:
    name = "kavenegar"

    def __init__(self, *, api_key: str, sender: str, otp_template: str, timeout: float) -> None:
        self._api_key = api_key
        self._sender = sender
        self._otp_template = otp_template
        self._timeout = timeout
        # The package calls `requests` with no timeout; a bounded pool keeps a hung
        # gateway from piling up threads while the worker moves on.
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kavenegar")

    def __repr__(self) -> str:  # the key must never reach a log line
        return "KavenegarGateway()"

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    async def send(self, message: SmsMessage) -> Sent:
        api = KavenegarAPI(self._api_key)
        receptor = kavenegar_receptor(message.to)
        call: Any
        if message.kind == "otp" and message.tokens:
            call = partial(
                api.verify_lookup,
                {"receptor": receptor, "template": self._otp_template, **message.tokens},
            )
        else:
            params = {"receptor": receptor, "message": message.body, "localid": str(message.id)}
            if self._sender:
                params["sender"] = self._sender
            call = partial(api.sms_send, params)
        loop = asyncio.get_running_loop()
        try:
            entries = await asyncio.wait_for(
                loop.run_in_executor(self._executor, call), self._timeout
            )
        except TimeoutError as exc:
            raise RetryLater("gateway timed out") from exc
        except APIException as exc:
            raise self._api_error(exc) from None
        except HTTPException as exc:
            raise RetryLater(self._scrub(f"network error: {exc}")[:300]) from None
        entry = entries[0] if entries else {}
        return Sent(
            provider_message_id=str(entry.get("messageid")) if entry.get("messageid") else None,
            provider_status=entry.get("status"),
        )

    def _api_error(self, exc: APIException) -> Exception:
        raw = exc.args[0] if exc.args else b""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        text = self._scrub(text)
        match = _STATUS.search(text)
        status = int(match.group(1)) if match else 0
        detail = f"kavenegar {status}: {match.group(2).strip() if match else text}"[:300]
        return Rejected(detail) if status in KAVENEGAR_REJECTS else RetryLater(detail)


def make_gateway(settings: Settings) -> SmsGateway:
    if settings.sms_backend == "kavenegar":
        return KavenegarGateway(
            api_key=settings.kavenegar_api_key,
            sender=settings.kavenegar_sender,
            otp_template=settings.kavenegar_otp_template,
            timeout=settings.sms_timeout_seconds,
        )
    return OutboxGateway()
