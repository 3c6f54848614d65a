"""argon2id password hashing (RFC 9106 profile), always off the event loop."""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from vafa.i18n import N_

_hasher = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4
# Verified against when the username is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("vafa-dummy-password")

MIN_LENGTH = 10
MAX_LENGTH = 256


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(_verify)


def password_problem(password: str) -> str | None:
    """A reason the password is not acceptable (an untranslated message id), or None."""
    if len(password) < MIN_LENGTH:
        return N_("The password must be at least 10 characters long.")
    if len(password) > MAX_LENGTH:
        return N_("The password is too long.")
    return None
