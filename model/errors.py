"""The one error type users see.

Bad input must reach a person as a single line naming the file, the field and what is
allowed, never as a traceback. Everything that validates input raises ``InputError``;
the CLI and the app catch it and print ``str(error)``.
"""

from __future__ import annotations


class InputError(ValueError):
    """A problem with user input, phrased for the user.

    ``source`` is the file (or "upload", "sweep file", ...), ``field`` the dotted path of the
    offending entry, ``message`` what is wrong and what is allowed.
    """

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source = source
        self.field = field
        self.message = message
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.source, self.field) if part)
        text = f"{where}: {self.message}" if where else self.message
        return printable(text)


def printable(text: str) -> str:
    """``text`` on one line: control characters (a newline or NUL in a hostile file name
    or key) shown as escapes, so a message can never pose as several, or as a prompt."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
