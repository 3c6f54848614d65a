"""The Jinja2 environment: Babel's i18n extension and the formatting filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup

from vafa.calendar import last_day
from vafa.club import ClubCache
from vafa.database import utcnow
from vafa.i18n import (
    LANGUAGE_NAMES,
    N_,
    current_language,
    direction,
    gettext,
    localized,
    ngettext,
    translate,
)
from vafa.i18n.formatting import (
    format_date,
    format_datetime,
    format_number,
    format_number_text,
    format_short_date,
    format_time,
)
from vafa.i18n.normalize import format_phone
from vafa.money import UNIT_NAMES, format_amount
from vafa.permissions import Permission, user_can
from vafa.settings import LANGUAGES, ROOT, Settings
from vafa.web.forms import new_key
from vafa.web.labels import KERNEL_LABELS, MONEY_VALUES, audit_details, merge_labels


def in_language(function: Callable[[Any, str], str]) -> Callable[[Any], str]:
    """A template helper for text stored per language (a tier's or reward's name)."""
    return lambda value: function(value, current_language.get())


USE_BY = N_("Use by %(date)s")
NEVER_EXPIRE = N_("Never expire")

# Values of stored messages that are codes: they read left to right in any language.
LEFT_TO_RIGHT = frozenset({"receipt", "code", "ip"})
# Numbers written as digits (an SMS line): the page's digits, read left to right.
DIGIT_STRINGS = frozenset({"line"})


@pass_context
def can(context: Any, permission: str) -> bool:
    """May the logged-in staff member do this? (the permissions table decides)"""
    request = context.get("request")
    user = request.scope.get("user") if request is not None else None
    return user_can(user, Permission(permission))


def build_environment(
    settings: Settings,
    extra_globals: dict[str, Any] | None = None,
    labels: dict[str, dict[str, str]] | None = None,
    club: ClubCache | None = None,
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
    club = club or ClubCache(settings)

    def lang() -> str:
        return current_language.get()

    def example_birthday() -> str:
        return format_short_date(date(1991, 8, 3), lang())

    def bdi(text: str | None) -> Markup:
        # Names in another script keep their own direction inside a sentence.
        return Markup("<bdi>{}</bdi>").format(text or "")

    def _money(value: int | None) -> str:
        return club.profile.money(value, lang()) if value is not None else ""

    def say(message: str, values: dict[str, Any] | None = None) -> Markup:
        """A stored message (a timeline item) in the page's language. Each value is
        isolated in <bdi>, so Latin letters and digits keep their order inside a Persian
        sentence; codes and receipt numbers read left to right and do not break; an
        `amount` is money, in the club's unit."""
        language = lang()
        filled: dict[str, object] = {}
        for name, value in (values or {}).items():
            if name in MONEY_VALUES and type(value) is int:
                filled[name] = Markup('<bdi class="text-nowrap">{}</bdi>').format(_money(value))
            elif isinstance(value, int) and not isinstance(value, bool):
                filled[name] = format_number(value, language)
            elif name in DIGIT_STRINGS:
                filled[name] = Markup('<bdi dir="ltr" class="text-nowrap">{}</bdi>').format(
                    format_number_text(str(value), language)
                )
            elif name in LEFT_TO_RIGHT:
                filled[name] = Markup('<bdi dir="ltr" class="text-nowrap">{}</bdi>').format(value)
            else:
                filled[name] = Markup("<bdi>{}</bdi>").format(value)
        return Markup.escape(translate(language, message)) % filled

    env.globals.update(
        say=say,
        bdi=bdi,
        lang=lang,
        now=utcnow,
        example_birthday=example_birthday,
        text_dir=lambda: direction(current_language.get()),
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        settings=settings,
        club=club,
        currency_unit=lambda: gettext(UNIT_NAMES[club.profile.currency]),
        # A money form says which unit it was shown in (`vafa.web.forms.form_currency`).
        unit_field=lambda: Markup('<input type="hidden" name="unit" value="{}">').format(
            club.profile.currency
        ),
        money_number=lambda value: format_amount(value, lang(), club.profile.currency),
        can=can,
        localized=localized,
        new_key=new_key,
        last_day=lambda moment: last_day(moment, tz),
    )
    merged = merge_labels(KERNEL_LABELS, labels or {})
    env.globals.update(merged)
    fields = merged["field_labels"]
    env.globals["audit_details"] = lambda details: audit_details(details, fields, money=_money)
    # An audit entry's details with its coded values named (roles, settings, kinds).
    env.globals["audit_lines"] = lambda entry: audit_details(
        entry.details, fields, labels=merged, object_type=entry.object_type, money=_money
    )

    def _date(value: date | datetime | None) -> str:
        return format_date(value, lang(), tz) if value else ""

    def _short_date(value: date | datetime | None) -> str:
        return format_short_date(value, lang(), tz) if value else ""

    def _datetime(value: datetime | None) -> str:
        return format_datetime(value, lang(), tz) if value else ""

    def _time(value: datetime | None) -> str:
        return format_time(value, lang(), tz) if value else ""

    def _last_day(value: datetime | None) -> str:
        # An expiry instant is the start of the first day without the points; people
        # want the last day they can still use them.
        return format_date(value - timedelta(microseconds=1), lang(), tz) if value else ""

    def _use_by(value: datetime | None) -> str:
        # The one way every page says when points run out: the last day they can be
        # used, in the page's language ("Use by 29 Esfand 1405"); no date, no expiry.
        if value is None:
            return gettext(NEVER_EXPIRE)
        return gettext(USE_BY, date=_last_day(value))

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
        time=_time,
        last_day=_last_day,
        use_by=_use_by,
        phone=_phone,
        num=_num,
        money=_money,
    )
    return env


def template_engine(
    settings: Settings,
    extra_globals: dict[str, Any] | None = None,
    labels: dict[str, dict[str, str]] | None = None,
    club: ClubCache | None = None,
) -> JinjaTemplateEngine:
    return JinjaTemplateEngine.from_environment(
        build_environment(settings, extra_globals, labels, club)
    )
