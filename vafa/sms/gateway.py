"""SMS gateways: `outbox` (keeps messages on this machine) and `kavenegar`.

A gateway sends one message and tells the worker what happened: a provider id on
success, `RetryLater` for a message that provably did not go and may be tried again
(outage, rate limit, no credit, a bad key, a connection that was never made),
`Rejected` for a message that can never be sent, and `OutcomeUnknown` when the request
may have reached the gateway but no answer came back (a read timeout, a dropped
connection). A message with an unknown outcome is never simply sent again: the worker
asks the gateway first (`check`), by the message's `localid`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import requests
from kavenegar import APIException, HTTPException, KavenegarAPI
from urllib3.exceptions import MaxRetryError

from vafa.models import SmsMessage
from vafa.settings import Settings


@dataclass(frozen=True)
class Sent:
    provider_message_id: str | None
    provider_status: int | None = None


class RetryLater(Exception):  # noqa: N818 - reads as an outcome
    """The message did not go (or the gateway cannot answer now): try again after a backoff."""


class Rejected(Exception):  # noqa: N818
    """The gateway will never accept this message."""


class OutcomeUnknown(Exception):  # noqa: N818
    """The request may have reached the gateway: never send again without asking first."""


class SmsGateway(Protocol):
    name: str
    # The longest a `send` or `check` can take (seconds) before the gateway gives up on
    # it; the worker's lease on a message outlasts it.
    longest_call: float

    async def send(self, message: SmsMessage) -> Sent: ...

    async def check(self, message: SmsMessage) -> Sent | None:
        """After an unknown outcome: the message as the gateway has it, or None when the
        gateway never received it. Raises `RetryLater` when it cannot tell now."""
        ...

    async def inbox(self, line: str) -> list[Received]:
        """Messages that arrived on `line` and were not read before (reading marks
        them read at the gateway: store them before anything else)."""
        ...


@dataclass(frozen=True)
class Received:
    messageid: str
    sender: str
    line: str
    text: str


class OutboxGateway:
    """The embedded default: nothing leaves the machine; the outbox row is the message."""

    name = "outbox"
    longest_call = 0.0

    async def send(self, message: SmsMessage) -> Sent:
        return Sent(provider_message_id=f"outbox-{message.id}", provider_status=None)

    async def check(self, message: SmsMessage) -> Sent | None:
        return None  # nothing left the machine: "sending" again only marks the row

    async def inbox(self, line: str) -> list[Received]:
        return []  # nothing arrives from outside; the webhook is the way in


# Kavenegar statuses a message itself can never get past; everything else (409 busy,
# 451 too many calls, 418 no credit, 401/403/407 account or key problems an operator
# fixes, 5xx) is retried with backoff so no message is lost to an outage.
KAVENEGAR_REJECTS = frozenset({400, 406, 411, 413, 414, 417, 419, 422, 426, 428, 431, 432, 501})
# What a message waiting because the account has no credit says (`last_error`).
NO_CREDIT = "kavenegar 418"
# `sms/statuslocalmessageid` answers this status for a localid it has never seen.
KAVENEGAR_UNKNOWN_ID = 100
_STATUS = re.compile(r"APIException\[([0-9]{3})\]\s*(.*)", re.ASCII | re.DOTALL)


def kavenegar_receptor(e164: str) -> str:
    """Kavenegar wants Iranian numbers nationally (0912...) and others with 00."""
    if e164.startswith("+98"):
        return "0" + e164[3:]
    return "00" + e164.lstrip("+")


class TimedKavenegarAPI(KavenegarAPI):
    """The `kavenegar` package's client, with a timeout on its HTTP calls.

    The package (1.1.2) posts with `requests.post(...)` and no timeout, so a gateway
    that never answers holds a thread forever and, once the pool is full, every later
    send waits behind it. Every method of the package (`sms_send`, `verify_lookup`,
    `sms_statuslocalmessageid`, ...) goes through `_request`; this one is the package's
    with (connect, read) timeouts, raising the package's own exceptions: `HTTPException`
    carries the `requests` exception, `APIException` the bytes `APIException[status] ...`.
    """

    def __init__(self, apikey: str, *, timeout: float, host: str = "api.kavenegar.com") -> None:
        super().__init__(apikey)
        self.host = host
        self.timeout = timeout

    def _request(self, action: str, method: str, params: dict[str, Any] | None = None) -> Any:
        url = f"https://{self.host}/{self.version}/{self.apikey}/{action}/{method}.json"
        try:
            content = requests.post(
                url, headers=self.headers, data=params or {}, timeout=(self.timeout, self.timeout)
            ).content
        except requests.exceptions.RequestException as exc:
            raise HTTPException(exc) from None
        try:
            response = json.loads(content.decode("utf-8"))
            status = response["return"]["status"]
            text = response["return"].get("message", "")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise HTTPException(exc) from None
        if status != 200:
            raise APIException(f"APIException[{status}] {text}".encode())
        return response["entries"]


def never_left(exc: HTTPException) -> bool:
    """True when the request provably never reached the gateway: the connection itself
    failed. `requests` makes no retries, so urllib3's `MaxRetryError` only comes from the
    connect step (refused, DNS, connect timeout, TLS setup); a read timeout or a dropped
    connection after the request was written may have been a delivered request."""
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, requests.exceptions.ConnectionError):  # ConnectTimeout, SSLError too
        inner = cause.args[0] if cause.args else None
        return isinstance(inner, MaxRetryError)
    return False


class KavenegarGateway:
    name = "kavenegar"

    def __init__(
        self,
        *,
        api_key: str,
        sender: str,
        otp_template: str,
        timeout: float,
        host: str = "api.kavenegar.com",
    ) -> None:
        self._api_key = api_key
        self._sender = sender
        self._otp_template = otp_template
        self._timeout = timeout
        self._host = host
        # Connect and read each get `timeout`; name resolution has none in `requests`,
        # so the worker also stops waiting after this long.
        self.longest_call = 2 * timeout + 1
        # HTTP calls are synchronous; a few threads keep slow calls off the event loop.
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kavenegar")

    def __repr__(self) -> str:  # the key must never reach a log line
        return "KavenegarGateway()"

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _client(self) -> TimedKavenegarAPI:
        return TimedKavenegarAPI(self._api_key, timeout=self._timeout, host=self._host)

    async def send(self, message: SmsMessage) -> Sent:
        api = self._client()
        receptor = kavenegar_receptor(message.to)
        call: Callable[[], Any]
        if message.kind == "otp" and message.tokens:
            # verify/lookup takes no localid: a login code with an unknown outcome
            # cannot be looked up, so the worker never sends it again.
            call = partial(
                api.verify_lookup,
                {"receptor": receptor, "template": self._otp_template, **message.tokens},
            )
        else:
            params = {"receptor": receptor, "message": message.body, "localid": message.localid}
            sender = message.sender or self._sender
            if sender:
                params["sender"] = sender
            call = partial(api.sms_send, params)
        entries = await self._call(call)
        entry = entries[0] if entries else {}
        return Sent(
            provider_message_id=str(entry.get("messageid")) if entry.get("messageid") else None,
            provider_status=entry.get("status"),
        )

    async def check(self, message: SmsMessage) -> Sent | None:
        """Ask Kavenegar (`sms/statuslocalmessageid`) whether this message reached it."""
        api = self._client()
        try:
            entries = await self._call(
                partial(api.sms_statuslocalmessageid, {"localid": message.localid})
            )
        except (RetryLater, Rejected, OutcomeUnknown) as exc:
            raise RetryLater(f"status check: {exc}") from None
        entry = entries[0] if entries else None
        if entry and entry.get("localid") not in (None, "", message.localid, int(message.localid)):
            # An answer about another message tells nothing about this one.
            raise RetryLater(f"status check answered for localid {entry.get('localid')}")
        if not entry or entry.get("status") == KAVENEGAR_UNKNOWN_ID or not entry.get("messageid"):
            return None
        return Sent(
            provider_message_id=str(entry["messageid"]), provider_status=entry.get("status")
        )

    async def inbox(self, line: str) -> list[Received]:
        """`sms/receive` for the line, unread only (at most 100 a call)."""
        api = self._client()
        entries = await self._call(partial(api.sms_receive, {"linenumber": line, "isread": 0}))
        return [
            Received(
                messageid=str(entry.get("messageid") or ""),
                sender=str(entry.get("sender") or ""),
                line=str(entry.get("receptor") or line),
                text=str(entry.get("message") or ""),
            )
            for entry in entries or []
        ]

    async def _call(self, fn: Callable[[], Any]) -> Any:
        future = self._executor.submit(fn)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.longest_call)
        except TimeoutError:
            # A call still queued behind slow ones is cancelled and never starts, so it
            # cannot go out after its message was rescheduled.
            if future.cancel() or future.cancelled():
                raise RetryLater("gateway busy: the call never started") from None
            raise OutcomeUnknown("gateway timed out") from None
        except asyncio.CancelledError:
            future.cancel()
            raise
        except APIException as exc:
            raise self._api_error(exc) from None
        except HTTPException as exc:
            detail = self._scrub(f"network error: {exc}")[:300]
            if never_left(exc):
                raise RetryLater(detail) from None
            raise OutcomeUnknown(detail) from None

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
