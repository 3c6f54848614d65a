"""Small helpers shared by the portal and admin handlers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request

MAX_FIELD = 4096


async def form_data(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The posted form as plain strings; oversized fields are cut (validators then
    refuse them with a clear message instead of choking on megabytes)."""
    data = await request.form()
    return {key: str(value)[:MAX_FIELD] for key, value in data.items() if isinstance(value, str)}


async def form_upload(request: Request[Any, Any, Any], name: str, limit: int) -> bytes | None:
    """The bytes of an uploaded file field, or None when no file was chosen. Reads at
    most `limit + 1` bytes, so the caller can refuse what is too large."""
    data = await request.form()
    upload = data.get(name)
    if upload is None or isinstance(upload, str) or not getattr(upload, "filename", ""):
        return None
    content = await upload.read(limit + 1)
    return content or None


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths: a `next` parameter must never send someone elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
