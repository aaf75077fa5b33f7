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


def read_user_file(path, source: str, kind: str, max_bytes: int, encoding: str = "utf-8") -> str:
    """The text of a file a user gave us, every way it can fail being one ``InputError``
    naming it: an unusable name (a NUL, too long), missing, a folder, too large, unreadable,
    not text in ``encoding``. Scenario, sweep and targets files are all read through it."""
    try:
        exists, is_file = path.exists(), path.is_file()
        size = path.stat().st_size if is_file else 0
    except (OSError, ValueError):  # a NUL character, a name too long for the filesystem
        raise InputError("not a usable file name", source=source) from None
    if not exists:
        raise InputError("file not found", source=source)
    if not is_file:
        raise InputError(f"is not a file (expected a {kind} file)", source=source)
    if size > max_bytes:
        raise InputError(f"file is larger than {max_bytes // 1000} kB", source=source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", source=source) from None
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise InputError(f"not a text file (expected UTF-8 {kind})", source=source) from None
