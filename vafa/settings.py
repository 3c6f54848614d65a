"""Settings, read once from the environment. Every variable is listed in README.md."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAFA_VAR_DIR", ROOT / "var"))

LANGUAGES = ("fa", "hy", "en")
OTP_TTL_MAX = 600
# At least 22 URL-safe characters: 128 bits of a random secret.
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_.~-]{22,}")


def private_dir(path: Path) -> Path:
    """The directory, created (with any missing parents) so that only this user can
    list or open what is inside: the database, the key and the pictures live here. An
    existing directory is left as it is."""
    missing = []
    level = path
    while not level.exists():
        missing.append(level)
        level = level.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another process
            continue
        os.chmod(directory, 0o700)  # whatever the umask
    return path


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _clock(name: str, default: str) -> time:
    """A time of day written HH:MM (24-hour)."""
    raw = os.environ.get(name) or default
    try:
        return time.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"{name} must be a time of day such as 08:00, not {raw!r}") from None


def _generated(variable: str, filename: str, nbytes: int) -> str:
    """The variable's value; unset, a random secret kept under var/ (made once)."""
    value = os.environ.get(variable)
    if value:
        return value
    path = VAR_DIR / filename
    if path.exists():
        return path.read_text().strip()
    private_dir(VAR_DIR)
    value = secrets.token_urlsafe(nbytes)
    try:
        # Create with 0600 so other local users cannot read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def _secret_key() -> str:
    return _generated("VAFA_SECRET_KEY", "secret_key", 48)


def _webhook_secret() -> str:
    return _generated("VAFA_SMS_WEBHOOK_SECRET", "sms_webhook_secret", 24)


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL") or os.environ.get("VAFA_DATABASE_URL")
    if not url:
        private_dir(VAR_DIR)
        return f"sqlite+aiosqlite:///{VAR_DIR / 'vafa.db'}"
    # Accept the common forms and pick the async drivers.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_database_url)
    secret_key: str = field(default_factory=_secret_key)
    cookie_secure: bool = field(default_factory=lambda: _bool("VAFA_COOKIE_SECURE", True))
    default_language: str = field(
        default_factory=lambda: os.environ.get("VAFA_DEFAULT_LANGUAGE", "fa")
    )
    timezone: str = field(default_factory=lambda: os.environ.get("VAFA_TIMEZONE", "Asia/Tehran"))
    otp_ttl_seconds: int = field(default_factory=lambda: _int("VAFA_OTP_TTL_SECONDS", 300))
    otp_max_attempts: int = 5
    otp_per_phone: int = field(default_factory=lambda: _int("VAFA_OTP_PER_PHONE", 3))
    otp_per_ip: int = field(default_factory=lambda: _int("VAFA_OTP_PER_IP", 20))
    customer_session_days: int = field(
        default_factory=lambda: _int("VAFA_CUSTOMER_SESSION_DAYS", 7)
    )
    staff_session_hours: int = field(default_factory=lambda: _int("VAFA_STAFF_SESSION_HOURS", 8))
    sms_backend: str = field(default_factory=lambda: os.environ.get("VAFA_SMS_BACKEND", "outbox"))
    sms_timeout_seconds: float = field(
        default_factory=lambda: float(os.environ.get("VAFA_SMS_TIMEOUT", "10"))
    )
    # Non-urgent SMS (reminders, club news) go only between these times, club time
    # (`timezone`); login codes and replies a person asked for go at any hour.
    sms_day_start: time = field(default_factory=lambda: _clock("VAFA_SMS_DAY_START", "08:00"))
    sms_day_end: time = field(default_factory=lambda: _clock("VAFA_SMS_DAY_END", "21:00"))
    # Where members reach the portal, for links in SMS ("https://club.example.ir").
    public_url: str = field(
        default_factory=lambda: os.environ.get("VAFA_PUBLIC_URL", "").strip().rstrip("/")
    )
    # Read incoming SMS from the gateway's inbox (`sms/receive`) in the worker, for a
    # setup Kavenegar cannot reach by webhook.
    sms_pull: bool = field(default_factory=lambda: _bool("VAFA_SMS_PULL", False))
    # The secret part of the incoming-SMS and delivery-report URLs Kavenegar calls.
    sms_webhook_secret: str = field(default_factory=_webhook_secret, repr=False)
    kavenegar_api_key: str = field(
        default_factory=lambda: os.environ.get("KAVENEGAR_API_KEY", ""), repr=False
    )
    kavenegar_sender: str = field(default_factory=lambda: os.environ.get("KAVENEGAR_SENDER", ""))
    kavenegar_otp_template: str = field(
        default_factory=lambda: os.environ.get("KAVENEGAR_OTP_TEMPLATE", "vafa-login")
    )
    embedded_worker: bool = field(default_factory=lambda: _bool("VAFA_EMBEDDED_WORKER", False))
    worker_interval_seconds: float = field(
        default_factory=lambda: float(os.environ.get("VAFA_WORKER_INTERVAL", "2"))
    )
    trusted_proxies: tuple[str, ...] = field(
        default_factory=lambda: tuple(
            p.strip() for p in os.environ.get("VAFA_TRUSTED_PROXIES", "").split(",") if p.strip()
        )
    )
    max_body_bytes: int = field(default_factory=lambda: _int("VAFA_MAX_BODY_BYTES", 1_048_576))
    debug: bool = field(default_factory=lambda: _bool("VAFA_DEBUG", False))

    def __post_init__(self) -> None:
        if not 60 <= self.otp_ttl_seconds <= OTP_TTL_MAX:
            raise ValueError("VAFA_OTP_TTL_SECONDS must be between 60 and 600")
        if self.default_language not in LANGUAGES:
            raise ValueError(f"VAFA_DEFAULT_LANGUAGE must be one of {LANGUAGES}")
        if self.sms_backend not in ("outbox", "kavenegar"):
            raise ValueError("VAFA_SMS_BACKEND must be 'outbox' or 'kavenegar'")
        if not WEBHOOK_SECRET.fullmatch(self.sms_webhook_secret):
            raise ValueError(
                "VAFA_SMS_WEBHOOK_SECRET must be at least 22 URL-safe characters (128 bits)"
            )
        if self.sms_backend == "kavenegar" and not self.kavenegar_api_key:
            raise ValueError("VAFA_SMS_BACKEND=kavenegar needs KAVENEGAR_API_KEY")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
