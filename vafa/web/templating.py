"""The Jinja2 environment: Babel's i18n extension and the formatting filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup

from vafa.database import utcnow
from vafa.i18n import LANGUAGE_NAMES, current_language, direction, gettext, ngettext
from vafa.i18n.formatting import (
    format_date,
    format_datetime,
    format_number,
    format_number_text,
    format_short_date,
)
from vafa.i18n.normalize import format_phone
from vafa.settings import LANGUAGES, ROOT, Settings
from vafa.web.labels import (
    AUDIT_ACTION_LABELS,
    ENTRY_KIND_LABELS,
    HISTORY_FILTER_LABELS,
    OBJECT_LABELS,
    ROLE_LABELS,
    SMS_STATUS_LABELS,
    VOUCHER_STATUS_LABELS,
    audit_details,
)


def in_language(function: Callable[[Any, str], str]) -> Callable[[Any], str]:
    """A template helper for text stored per language (a tier's or reward's name)."""
    return lambda value: function(value, current_language.get())


def build_environment(
    settings: Settings, extra_globals: dict[str, Any] | None = None
) -> Environment:
    env = Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    tz = settings.timezone

    def lang() -> str:
        return current_language.get()

    def example_birthday() -> str:
        return format_short_date(date(1991, 8, 3), lang())

    def bdi(text: str | None) -> Markup:
        # Names in another script keep their own direction inside a sentence.
        return Markup("<bdi>{}</bdi>").format(text or "")

    env.globals.update(
        bdi=bdi,
        lang=lang,
        now=utcnow,
        example_birthday=example_birthday,
        text_dir=lambda: direction(current_language.get()),
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        settings=settings,
        role_labels=ROLE_LABELS,
        status_labels=SMS_STATUS_LABELS,
        action_labels=AUDIT_ACTION_LABELS,
        object_labels=OBJECT_LABELS,
        entry_labels=ENTRY_KIND_LABELS,
        history_labels=HISTORY_FILTER_LABELS,
        voucher_labels=VOUCHER_STATUS_LABELS,
        audit_details=audit_details,
    )

    def _date(value: date | datetime | None) -> str:
        return format_date(value, lang(), tz) if value else ""

    def _short_date(value: date | datetime | None) -> str:
        return format_short_date(value, lang(), tz) if value else ""

    def _datetime(value: datetime | None) -> str:
        return format_datetime(value, lang(), tz) if value else ""

    def _last_day(value: datetime | None) -> str:
        # An expiry instant is the start of the first day without the points; people
        # want the last day they can still use them.
        return format_date(value - timedelta(microseconds=1), lang(), tz) if value else ""

    def _phone(value: str | None) -> Markup:
        # Phone numbers read left to right even inside Persian text.
        if not value:
            return Markup("")
        return Markup('<bdi dir="ltr">{}</bdi>').format(format_phone(value, lang()))

    def _num(value: Any) -> str:
        if isinstance(value, int):
            return format_number(value, lang())
        return format_number_text(str(value), lang())

    # Domain packages add their own helpers where the app is assembled.
    env.globals.update(extra_globals or {})
    env.filters.update(
        date=_date,
        short_date=_short_date,
        datetime=_datetime,
        last_day=_last_day,
        phone=_phone,
        num=_num,
    )
    return env


def template_engine(
    settings: Settings, extra_globals: dict[str, Any] | None = None
) -> JinjaTemplateEngine:
    return JinjaTemplateEngine.from_environment(build_environment(settings, extra_globals))
