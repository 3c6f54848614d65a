"""Reading what people text and writing what the line answers: keyword keys, the
opt-out words, the language a message is in, placeholders, and SMS parts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from vafa.i18n.normalize import fold

KEY_MAX = 60
# 11 or «لغو» (also «لغو۱۱», as the footer of a message says) stop a line's
# advertising; 12 starts it again. Matched on keys, so any digits work.
OPT_OUT_KEYS = frozenset({"11", "لغو", "لغو11"})
OPT_IN_KEYS = frozenset({"12"})
PLACEHOLDERS = ("name", "balance", "tier", "coupon", "link")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_SPACE = re.compile(r"\s+")
_ARMENIAN = re.compile("[\u0531-\u058f]")
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")


def keyword_key(text: str) -> str:
    """What a message or keyword is matched on: folded (digits, yeh and kaf, half-space,
    case) and without spaces, so «عضو یت », «عضويت» and «عضویت» are one word."""
    return _SPACE.sub("", fold(text))[:KEY_MAX]


def language_of(text: str, default: str) -> str:
    """The language to answer a stranger in: the script they wrote in."""
    if _ARMENIAN.search(text):
        return "hy"
    if _ARABIC_SCRIPT.search(text):
        return "fa"
    if re.search("[A-Za-z]", text):
        return "en"
    return default


def in_language(replies: Mapping[str, str], language: str, default: str) -> str:
    """The reply in the language asked for, else the club's, else any written one."""
    for choice in (language, default, *replies):
        text = (replies.get(choice) or "").strip()
        if text:
            return text
    return ""


MARKETING_FOOTER = "لغو۱۱"  # Iranian rules: advertising ends with how to stop it


def with_footer(body: str, marketing: bool) -> str:
    """An advertising reply as it is sent: ending with how to stop it."""
    if marketing and MARKETING_FOOTER not in body:
        return f"{body}\n{MARKETING_FOOTER}"
    return body


def fill(template: str, values: Mapping[str, str]) -> str:
    """Staff's reply with its placeholders ({name}, {balance}, ...) filled; any other
    brace stays as typed."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Parts:
    characters: int
    parts: int
    unicode: bool  # UCS-2 (any Persian or Armenian letter), else GSM-7


def sms_parts(text: str) -> Parts:
    """How many SMS a text costs: GSM-7 160 in one part, 153 per part; UCS-2 (any
    character outside GSM-7) 70 and 67. An extended GSM-7 character takes two places."""
    if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in text):
        length = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, each, unicode = 160, 153, False
    else:
        # UCS-2 counts UTF-16 code units: a character beyond the BMP takes two.
        length = len(text.encode("utf-16-le")) // 2
        single, each, unicode = 70, 67, True
    if length == 0:
        return Parts(0, 0, unicode)
    parts = 1 if length <= single else -(-length // each)
    return Parts(length, parts, unicode)
