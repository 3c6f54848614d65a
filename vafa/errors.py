"""One refusal for every service: `UserError`, a translatable message with values.

Services raise it (and only it) when they refuse; they leave nothing behind when they
do. The web layer renders it as the page, an htmx fragment or RFC 9457 problem JSON
(`vafa.web.errors`); the command line prints it.
"""

from __future__ import annotations

from vafa.i18n import current_language
from vafa.i18n.formatting import format_message


class UserError(Exception):
    """`message` is an untranslated msgid; `values` fill its placeholders. A value named
    `field` is a label translated when shown; numbers are written in the reader's digits.
    `status` is the HTTP status a web request answers with; `code` a stable name for
    programs (the API's problem JSON carries it: `insufficient_points`, ...)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **values: object,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.headers = headers  # sent with the refusal (a 401's WWW-Authenticate)
        self.values = values

    def text(self, language: str | None = None) -> str:
        return format_message(language or current_language.get(), self.message, self.values)

    def __str__(self) -> str:
        return self.text("en")


class NotFound(UserError):  # noqa: N818 - reads as the refusal it is
    """What the request names does not exist, or is not the asker's to see."""

    def __init__(self) -> None:
        super().__init__("We could not find this page.", status=404, code="not_found")
