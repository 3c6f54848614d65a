"""Reward pictures: accepted by what the bytes are (PNG, JPEG, WebP), never by the name
or the declared type; stored under a name the server makes; served with their type.

A picture reaches the disk only with the reward that names it: `save` names it, the
file is written when that reward row is flushed, and removed again when the
transaction ends without committing, so a refused request leaves no file behind.
Files and folders are readable by the server's own user only.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, object_session

from loyalty.models import Reward
from vafa.errors import UserError
from vafa.i18n import N_
from vafa.settings import VAR_DIR, private_dir

MAX_BYTES = 2 * 1024 * 1024
MEDIA_DIR = VAR_DIR / "media" / "rewards"
NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$", re.ASCII)
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}

# In a session's `info`: the files its transaction wrote, and whether it committed.
_WRITTEN = "loyalty.images.written"
_COMMITTED = "loyalty.images.committed"


class _NewPicture(str):
    """The name `save` gives, still carrying the picture until its reward is flushed."""

    directory: Path
    data: bytes


def kind_of(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def check(data: bytes) -> str:
    """The picture's type, or a refusal."""
    if len(data) > MAX_BYTES:
        raise UserError(N_("The picture is too large (at most 2 MB)."))
    kind = kind_of(data)
    if kind is None:
        raise UserError(N_("The picture must be a PNG, JPEG or WebP image."))
    return kind


def save(data: bytes, directory: Path | None = None) -> str:
    """Accept an uploaded picture and return its new name, for a reward's `image`. The
    file is written when that reward is flushed, and kept only if its transaction
    commits."""
    picture = _NewPicture(f"{secrets.token_hex(16)}.{check(data)}")
    picture.directory = directory or MEDIA_DIR
    picture.data = data
    return picture


def path_of(name: str, directory: Path | None = None) -> Path | None:
    """The file behind a name from a URL, or None (no traversal, no guessing)."""
    if not NAME.match(name):
        return None
    path = (directory or MEDIA_DIR) / name
    return path if path.is_file() else None


def _write(directory: Path, name: str, data: bytes) -> Path:
    private_dir(directory)
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@event.listens_for(Reward, "before_insert")
@event.listens_for(Reward, "before_update")
def _write_new_picture(_mapper: Any, _connection: Any, reward: Reward) -> None:
    picture = reward.image
    if not isinstance(picture, _NewPicture):
        return
    name = str(picture)
    path = _write(picture.directory, name, picture.data)
    reward.image = name  # a plain name from now on; the bytes can go
    session = object_session(reward)
    if session is not None:
        session.info.setdefault(_WRITTEN, []).append(path)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if _WRITTEN in session.info and session.get_nested_transaction() is None:
        session.info[_COMMITTED] = True


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None or _WRITTEN not in session.info:
        return
    written = session.info.pop(_WRITTEN)
    if not session.info.pop(_COMMITTED, False):
        for path in written:
            path.unlink(missing_ok=True)
