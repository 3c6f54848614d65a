"""Small helpers shared by the portal and admin handlers."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.params import Parameter

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


# Database ids a URL may name: a bigger number is refused as bad input (400) by the
# router, instead of failing inside the database driver.
MAX_ID = 2**63 - 1
PathId = Annotated[int, Parameter(ge=1, le=MAX_ID)]


def query_id(request: Request[Any, Any, Any], name: str) -> int | None:
    """A positive id from the query string, or None for anything else."""
    raw = request.query_params.get(name, "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw) or None
    return None


def query_page(request: Request[Any, Any, Any]) -> int:
    """A page number from 1 to 10,000 (anything else is the first page)."""
    raw = request.query_params.get("page", "1")
    return max(1, min(int(raw), 10_000)) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 1
