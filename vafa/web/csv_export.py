"""CSV downloads that a spreadsheet opens right: UTF-8 with a byte-order mark (so Excel
reads Persian and Armenian), dates a Persian reader recognises, and no cell that a
spreadsheet would run as a formula (CSV injection)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import jdatetime
from litestar.response import Stream

from vafa.i18n.formatting import local

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")


def cell(value: Any) -> str:
    """One value as text. A text that starts like a formula gets a leading apostrophe
    (shown as text, never run); a plain number such as +989121234567 is left alone."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def day(value: date, language: str) -> str:
    """A day, sortable and with ASCII digits (a cell, a file name): Solar Hijri for a
    Persian reader (1405-09-05), ISO otherwise (2026-11-26)."""
    if language == "fa":
        j = jdatetime.date.fromgregorian(date=value)
        return f"{j.year:04d}-{j.month:02d}-{j.day:02d}"
    return value.isoformat()


def moment(value: datetime | None, language: str, tz: str) -> str:
    """A time in the club's zone, as `day` writes days: 1405-09-05 20:24."""
    if value is None:
        return ""
    when = local(value, tz)
    return f"{day(when.date(), language)} {when:%H:%M}"


def lines(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def download(
    filename: str, header: Sequence[str], chunks: AsyncIterator[Iterable[Sequence[Any]]]
) -> Stream:
    """A CSV file streamed a chunk of rows at a time (an export of every contact does
    not sit in memory)."""

    async def body() -> AsyncIterator[bytes]:
        yield (BOM + lines([header])).encode()
        async for rows in chunks:
            yield lines(rows).encode()

    return Stream(
        body(),
        media_type="text/csv",  # Litestar adds "; charset=utf-8"
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        },
    )
