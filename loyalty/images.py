"""Reward pictures: accepted by what the bytes are (PNG, JPEG, WebP), never by the name
or the declared type; stored under a name the server makes; served with their type."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from vafa.errors import UserError
from vafa.i18n import N_
from vafa.settings import VAR_DIR

MAX_BYTES = 2 * 1024 * 1024
MEDIA_DIR = VAR_DIR / "media" / "rewards"
NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$", re.ASCII)
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


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
    """Store an uploaded picture; returns its new name."""
    kind = check(data)
    directory = directory or MEDIA_DIR
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{kind}"
    (directory / name).write_bytes(data)
    return name


def path_of(name: str, directory: Path | None = None) -> Path | None:
    """The file behind a name from a URL, or None (no traversal, no guessing)."""
    if not NAME.match(name):
        return None
    path = (directory or MEDIA_DIR) / name
    return path if path.is_file() else None
