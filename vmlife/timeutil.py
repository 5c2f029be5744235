"""Time values: vmlife keeps instants as float seconds since the Unix epoch (UTC).

Users may pass a timezone-aware ``datetime``, a naive ``datetime`` (taken as UTC), an ISO 8601
string (``Z`` or an offset; no offset means UTC) or a number of epoch seconds.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import datetime, timedelta, timezone

__all__ = [
    "TimeLike",
    "from_iso_exact",
    "iso",
    "iso_exact",
    "time_arg",
    "to_datetime",
    "to_epoch",
    "to_seconds",
]

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


def time_arg(text: str) -> str:
    """A command-line time option checked as it is parsed (argparse's ``type=`` for
    ``--start`` and ``--end``): a value that is no time is a usage error naming the option,
    not a traceback later. Returns the text unchanged.

    Raises:
        argparse.ArgumentTypeError: not an ISO 8601 time, or out of range.
    """
    try:
        to_datetime(to_epoch(text))
    except (ValueError, OverflowError, OSError):
        import argparse  # only on the error path: argparse is not needed to import vmlife

        raise argparse.ArgumentTypeError(
            f"not a time vmlife can read: {text!r} (ISO 8601 between the years 1 and 9999, "
            "for example 2024-03-04T08:00:00Z)"
        ) from None
    return text


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
        return f"{_ymdhms(dt)}.{dt.microsecond:06d}Z"
    return f"{_ymdhms(dt)}Z"


def _ymdhms(dt: datetime) -> str:
    # strftime("%Y") does not pad years below 1000 on every platform (glibc writes "1")
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_SECOND = timedelta(seconds=1)
_END_OF_9999 = 253402300800.0  # 10000-01-01T00:00:00Z
#: Longest fraction of a second :func:`from_iso_exact` reads. A float of today's epoch needs
#: at most 23 digits; one within a second of 1970 may need up to 1074 (a subnormal's exact
#: decimal expansion), which is the bound.
MAX_FRACTION_DIGITS = 1080


@functools.cache
def _iso_pattern() -> re.Pattern[str]:
    """The exact ISO 8601 form :func:`from_iso_exact` reads (compiled on first use)."""
    return re.compile(
        r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,"
        + str(MAX_FRACTION_DIGITS)
        + r"}))?(Z|z|[+-]\d\d:\d\d)?"
    )


def iso_exact(epoch: float) -> str:
    """ISO 8601 text in UTC that holds ``epoch`` exactly: :func:`from_iso_exact` gives back the
    same float. The fraction of a second has as many digits as the float needs (none for a
    whole second); years have four digits (``0001-01-01T00:00:00Z``).

    This is the time format of timeline files: one resolution (the float's own) from the
    engine to the file and back.

    Raises:
        ValueError: ``epoch`` is not finite or not within years 1 to 9999.
    """
    from decimal import ROUND_FLOOR, Decimal, localcontext  # not at import: vmlife loads fast

    if isinstance(epoch, bool) or not math.isfinite(epoch):
        raise ValueError(f"not a finite time: {epoch!r}")
    with localcontext() as ctx:
        ctx.prec = 1200
        exact = Decimal(epoch)
        whole = int(exact.to_integral_value(rounding=ROUND_FLOOR))
        frac = exact - whole
        try:
            dt = _EPOCH + timedelta(seconds=whole)
        except OverflowError:
            raise ValueError(f"time out of range (years 1 to 9999): {epoch!r}") from None
        if not frac:
            return f"{_ymdhms(dt)}Z"
        digits = format(frac, "f")[2:].rstrip("0")
    return f"{_ymdhms(dt)}.{digits}Z"


def from_iso_exact(text: str) -> float:
    """Epoch seconds for ISO 8601 text, with every digit of the fraction taken into account
    (to the nearest float), unlike :func:`to_epoch`, which keeps microseconds.

    Raises:
        ValueError: not ``YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]``, or not a real time.
    """
    m = _iso_pattern().fullmatch(text.strip())
    if m is None:
        raise ValueError(f"not an ISO 8601 time: {text[:60]!r}")
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        tz = timezone.utc
        if zone and zone not in ("Z", "z"):
            sign = -1 if zone[0] == "-" else 1
            tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                      tzinfo=tz)
        whole = (dt - _EPOCH) // _ONE_SECOND
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a real time: {text[:60]!r} ({exc})") from None
    if not fraction:
        return float(whole)
    from decimal import Decimal, localcontext  # not at import: vmlife loads fast

    with localcontext() as ctx:
        ctx.prec = 1200
        t = float(Decimal(whole) + Decimal("0." + fraction))
    if t >= _END_OF_9999:
        raise ValueError(f"not a real time: {text[:60]!r} rounds past the year 9999")
    return t
