"""Time values: vmlife keeps instants as float seconds since the Unix epoch (UTC).

Users may pass a timezone-aware ``datetime``, a naive ``datetime`` (taken as UTC), an ISO 8601
string (``Z`` or an offset; no offset means UTC) or a number of epoch seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["TimeLike", "iso", "to_datetime", "to_epoch", "to_seconds"]

TimeLike = datetime | str | float | int


def to_epoch(value: TimeLike) -> float:
    """Epoch seconds for a time value.

    Raises:
        ValueError: for a string that is not ISO 8601 or a value of another type.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        # Activity Log times carry 7 fractional digits; fromisoformat accepts at most 6.
        text = _trim_fraction(text)
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {value!r}") from None
    else:
        raise ValueError(f"not a time: {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _trim_fraction(text: str) -> str:
    dot = text.find(".")
    if dot < 0:
        return text
    end = dot + 1
    while end < len(text) and text[end].isdigit():
        end += 1
    digits = text[dot + 1 : end]
    if len(digits) > 6:
        return text[: dot + 1] + digits[:6] + text[end:]
    return text


def to_seconds(value: timedelta | float | int) -> float:
    """Seconds in a duration given as a ``timedelta`` or a number."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def to_datetime(epoch: float) -> datetime:
    """A UTC ``datetime`` for epoch seconds."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


def iso(epoch: float | None) -> str | None:
    """ISO 8601 text in UTC with a ``Z``; whole seconds unless there is a fraction."""
    if epoch is None:
        return None
    dt = to_datetime(epoch)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
