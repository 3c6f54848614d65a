"""Languages: Babel catalogs for fa (default), hy and en, and the request's language.

The language of the current request lives in a contextvar, never on a shared object.
Catalogs are compiled from the `.po` files in memory at start, so a stale `.mo` can
never be served.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from vafa.settings import LANGUAGES

LOCALES_DIR = Path(__file__).parent / "locales"
RTL = frozenset({"fa"})
LANGUAGE_NAMES = {"fa": "فارسی", "hy": "Հայերեն", "en": "English"}

current_language: ContextVar[str] = ContextVar("vafa_language", default="fa")


def direction(language: str) -> str:
    return "rtl" if language in RTL else "ltr"


def parse_language(value: str | None) -> str | None:
    """A supported language code, or None for anything else."""
    if not value:
        return None
    value = value.strip().lower()[:8].replace("_", "-").split("-")[0]
    return value if value in LANGUAGES else None


@cache
def translations(language: str) -> NullTranslations:
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf)


def translate(language: str, message: str, **variables: object) -> str:
    """`message` in `language`, whatever the current request speaks (SMS texts)."""
    text = translations(language).ugettext(message)
    return text % variables if variables else text


def gettext(message: str, **variables: object) -> str:
    return translate(current_language.get(), message, **variables)


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current_language.get()).ungettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def localized(texts: Mapping[str, str] | None, language: str | None = None) -> str:
    """Text stored per language (a name typed in fa, en, hy): the reader's, else
    English, else whichever there is."""
    if not texts:
        return ""
    language = language or current_language.get()
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")
