"""Escaping of names for every output format, in one place.

State, operation, axis and plugin names come from plugins and may hold anything: quotes, angle
brackets, backslashes, newlines, control characters. Each function here makes such a name safe
as *text* in one format, so it can neither break the syntax nor inject markup.
"""

from __future__ import annotations

import html
import unicodedata

__all__ = [
    "dot_html",
    "dot_string",
    "html_text",
    "mermaid_text",
    "mpl_text",
    "plain_line",
    "terminal_text",
]

_REPLACEMENT = "\N{REPLACEMENT CHARACTER}"


def _lines(text: str) -> list[str]:
    """Split on any line break; other control characters become U+FFFD (visible, harmless)."""
    out = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        out.append(
            "".join(
                " " if ch == "\t" else _REPLACEMENT if unicodedata.category(ch) == "Cc" else ch
                for ch in line
            )
        )
    return out


def plain_line(text: str) -> str:
    """One line of plain text: line breaks become spaces, control characters U+FFFD."""
    return " ".join(_lines(text))


def dot_html(text: str) -> str:
    """Text inside a Graphviz HTML-like label (``label=<...>``): entities, ``<BR/>`` for breaks."""
    return "<BR/>".join(html.escape(line, quote=True) for line in _lines(text))


def dot_string(text: str) -> str:
    """A quoted DOT string (with its quotes): backslashes and quotes escaped, breaks as ``\\n``.

    Escaping the backslash also stops Graphviz from expanding ``\\N``, ``\\G`` and the like.
    """
    body = "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in _lines(text))
    return f'"{body}"'


def _mermaid_char(ch: str) -> str:
    if ch.isalnum() or ch in " _.,()*+-/":
        return ch
    return f"#{ord(ch)};"


def mermaid_text(text: str) -> str:
    """Text for a Mermaid label: anything but letters, digits and plain punctuation becomes an
    entity code (``#34;``), which Mermaid shows as the character but never parses; line breaks
    become ``<br/>``."""
    return "<br/>".join("".join(_mermaid_char(ch) for ch in line) for line in _lines(text))


def html_text(text: str) -> str:
    """Text inside HTML (element content or a quoted attribute value)."""
    return html.escape(text, quote=True)


def _no_surrogates(text: str) -> str:
    """Lone surrogates (from JSON ``\\ud800`` escapes) become U+FFFD; nothing can encode them."""
    if text.isascii():
        return text
    return "".join(_REPLACEMENT if "\ud800" <= ch <= "\udfff" else ch for ch in text)


def terminal_text(text: str, encoding: str | None = None) -> str:
    """One line for a terminal: control characters (ANSI escape sequences start with one,
    ESC) and lone surrogates become U+FFFD, line breaks spaces; characters ``encoding`` cannot
    write become ``?``.
    """
    line = plain_line(_no_surrogates(text)) if not text.isprintable() else _no_surrogates(text)
    if encoding and not line.isascii():
        try:
            line.encode(encoding)
        except UnicodeEncodeError:
            line = line.encode(encoding, errors="replace").decode(encoding)
        except LookupError:
            pass
    return line


def mpl_text(text: str) -> str:
    """Text matplotlib draws as it is: every ``$`` escaped, so no maths mode is ever entered
    (matplotlib parses text between two unescaped dollars as mathtext), and one line."""
    return plain_line(_no_surrogates(text)).replace("$", r"\$")
