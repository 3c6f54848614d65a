"""The API's `Idempotency-Key` (IETF draft "The Idempotency-Key HTTP Header Field"):
a call that moves points is done once per key; a retry with the same key and body
gets the first answer again.

The key is claimed in the same transaction as the movement, inside a savepoint:
a refusal rolls back both (the key stays free for a corrected retry), a success
commits both. A twin in another process waits on the claim's unique index until the
first commits, then replays its answer; a twin in this process is told 409 at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from partners.models import IdempotentRequest
from vafa.database import insert_new, utcnow
from vafa.errors import UserError
from vafa.i18n import N_

KEY_MAX = 255
# Printable ASCII without spaces: what the header field allows in practice.
_KEY = re.compile(r"[!-~]{1,255}")

# (partner, key) pairs this process is working on right now.
_IN_FLIGHT: set[tuple[int, str]] = set()


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def clean_key(raw: str | None) -> str:
    if raw is None or raw == "":
        raise UserError(
            N_("This call needs an Idempotency-Key header: a new random value per operation."),
            status=400,
            code="idempotency_key_missing",
        )
    key = raw.strip()
    if not _KEY.fullmatch(key):
        raise UserError(
            N_("The Idempotency-Key header must be 1 to 255 visible ASCII characters."),
            status=400,
            code="idempotency_key_invalid",
        )
    return key


def fingerprint(method: str, path: str, body: Any, secret: str) -> str:
    """The same call: method, path and the body's JSON value (not its bytes: key order
    and spacing may differ between retries). Keyed with the server's secret: a body
    holds a member code, which a plain hash kept in the database would give away."""
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False)
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _reused() -> UserError:
    return UserError(
        N_("This Idempotency-Key was already used for a different request."),
        status=422,
        code="idempotency_key_reused",
    )


def _replay(found: IdempotentRequest, print_: str) -> Answer:
    if found.fingerprint != print_:
        raise _reused()
    return Answer(found.status, found.response, replayed=True)


async def _stored(session: AsyncSession, partner_id: int, key: str) -> IdempotentRequest | None:
    return await session.scalar(
        select(IdempotentRequest)
        .where(IdempotentRequest.partner_id == partner_id, IdempotentRequest.key == key)
        .execution_options(populate_existing=True)
    )


async def once(
    session: AsyncSession,
    *,
    partner_id: int,
    key: str,
    print_: str,
    work: Callable[[int], Awaitable[Answer]],
    check: Callable[[], Awaitable[None]] | None = None,
) -> Answer:
    """Do `work` once for (partner, key). `check` runs first, outside the savepoint:
    what it writes (a wrong code counted) stays even when it refuses. `work` gets the
    claim's id (to name what it writes) and returns the answer to keep."""
    found = await _stored(session, partner_id, key)
    if found is not None:
        return _replay(found, print_)
    if (partner_id, key) in _IN_FLIGHT:
        raise UserError(
            N_("A request with this Idempotency-Key is still being processed."),
            status=409,
            code="idempotency_key_in_flight",
        )
    _IN_FLIGHT.add((partner_id, key))
    try:
        if check is not None:
            await check()
        async with session.begin_nested():
            claimed = await insert_new(
                session,
                IdempotentRequest,
                {
                    "partner_id": partner_id,
                    "key": key,
                    "fingerprint": print_,
                    "status": 0,
                    "response": {},
                    "created_at": utcnow(),
                },
                unique=["partner_id", "key"],
                returning=(IdempotentRequest.id,),
            )
            if claimed:
                [(claim_id,)] = claimed
                answer = await work(claim_id)
                await session.execute(
                    update(IdempotentRequest)
                    .where(IdempotentRequest.id == claim_id)
                    .values(status=answer.status, response=answer.body)
                    .execution_options(synchronize_session=False)
                )
                return answer
        # Another process claimed it first and has committed by now (the insert waited
        # for it): its answer is this call's answer.
        found = await _stored(session, partner_id, key)
        if found is None or found.status == 0:
            raise UserError(
                N_("A request with this Idempotency-Key is still being processed."),
                status=409,
                code="idempotency_key_in_flight",
            )
        return _replay(found, print_)
    finally:
        _IN_FLIGHT.discard((partner_id, key))
