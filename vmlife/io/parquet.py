"""Activity Log events (or AzureActivity rows) stored as Parquet, read as records.

People who pull Activity Logs into pandas keep them as Parquet:
``pandas.json_normalize(events).to_parquet(path)``. :func:`vmlife.io.history.iter_records`
hands a file that starts with Parquet's magic bytes (``PAR1``) to :func:`iter_parquet`, which
reads it batch by batch with pyarrow (``pip install pyarrow``; never needed for anything
else) and turns each row back into the nested record the readers know: the flattened column
``operationName.value`` becomes ``{"operationName": {"value": ...}}``, nulls and NaN are left
out, and timestamps become ISO 8601 text in UTC.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

from ..errors import InputError

__all__ = ["MAGIC", "iter_parquet", "unflatten"]

#: The first (and last) four bytes of every Parquet file.
MAGIC = b"PAR1"
_BATCH = 10_000


def unflatten(row: dict[str, Any]) -> dict[str, Any]:
    """A flat row (``{"operationName.value": x}``) as the nested record; nulls and NaN dropped.

    A dotted column whose parent is already a plain value keeps its dotted name.
    """
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        value = _plain(value)
        parts = str(key).split(".")
        node = out
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                out[str(key)] = value
                break
            node = nxt
        else:
            node[parts[-1]] = value
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def iter_parquet(path: str, src: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, record)`` for each row of a Parquet file; ``where`` is ``record N`` from 1.

    Raises:
        InputError: pyarrow is not installed, or the file is not readable Parquet.
    """
    try:
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise InputError(
            "this is a Parquet file; reading it needs pyarrow (pip install pyarrow)", source=src
        ) from None
    try:
        reader = pq.ParquetFile(path)
        batches = reader.iter_batches(batch_size=_BATCH)
        n = 0
        for batch in batches:
            for row in batch.to_pylist():
                n += 1
                yield f"record {n}", unflatten(row)
    except InputError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, and others on bad files
        raise InputError(f"not readable Parquet: {str(exc)[:200]}", source=src) from None
