"""Fleet billing: many VMs' steps in one table, billed with numpy and pandas in one call.

:func:`bill_frame` bills a long table of steps (one row per step of each VM) per VM and cost
component, with exactly the rules of :func:`vmlife.billing.meter.bill` (see that module for
the rounding rule) but without building a :class:`~vmlife.timeline.Timeline` per VM:

1. each **distinct** composite state is classified once with
   :func:`~vmlife.billing.meter.billed_components` (a fleet has a few dozen distinct states
   however many rows it has);
2. steps are clipped to the billing period as the meter clips them;
3. per component, continuous runs are found with shifted comparisons (same VM, this step
   starts where the previous kept step ended, both bill the component) and a cumulative
   count, then each run is floored to the granularity and priced;
4. runs are summed per VM with :func:`numpy.bincount`, in the meter's order, so billed seconds
   and costs are the meter's to the last bit.

The input table (:data:`pandas.DataFrame`, a Parquet file or dataset, a ``pyarrow.Table``):

* ``vm``: the VM's name or resource id;
* ``start``: when the step starts (epoch seconds, datetimes, or ISO 8601 text);
* ``end`` (optional): when it ends; missing (or NaN) means "until the VM's next step", and the
  VM's last step is then open, billed up to ``end=`` when given, as the meter does;
* one column per state axis the lifecycle knows (``provisioning``, ``power``,
  ``os_provisioning``, a plugin's ``hibernation``, ...): the state id, or missing when the VM
  has no state on that axis. A single ``power`` column is enough. A step with every axis
  missing means "no VM" (before create, after delete). Other columns are ignored;
* ``operation`` (optional): the operation a step belongs to. A restart's steps (an operation
  that keeps the host) bill what the VM's step before it billed, and so does a step of an
  existing VM with no known power state, exactly as in the meter;
* ``sku`` (or ``size``), ``os``, ``priority``, ``region`` (optional): the VM's price row,
  read from its first step; defaults as the meter's (``Standard_D2s_v5``, ``linux``,
  ``regular``, the table's default region); ``disks`` (optional): the VM's disks as JSON text
  (a list of ``{"type", "size_gb", "name"}``, as :func:`steps_frame` writes them), whose
  monthly prices go to ``other`` as in the meter.

Rows may come in any order: they are stably sorted by VM and start when needed.

Beyond one machine, :func:`bill_dask` runs the same computation on each partition of a Dask
DataFrame whose partitions hold whole VMs (``ddf.shuffle("vm")`` makes it so), the path to a
Dask cluster for fleets that outgrow one machine.

pandas, numpy, pyarrow and dask are imported inside the functions only: ``import vmlife``
stays light.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING, Any

from ..errors import InputError, UnknownNameError
from ..lifecycle import Lifecycle, lifecycle
from ..model import VMState
from ..timeline import Timeline
from ..timeutil import TimeLike, to_epoch
from .editions import COMPONENTS, Edition
from .meter import GRANULARITIES, billed_components
from .prices import SAMPLE_PRICES, PriceTable, month_fraction

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from ..io.inventory import Inventory

__all__ = [
    "RESULT_COLUMNS",
    "bill_dask",
    "bill_events",
    "bill_frame",
    "steps_frame",
]

#: Columns of the frame :func:`bill_frame` returns, one row per VM and component.
RESULT_COLUMNS = ("vm", "component", "runs", "seconds", "billed_seconds", "cost")

_DEFAULT_SKU, _DEFAULT_OS, _DEFAULT_PRIORITY = "Standard_D2s_v5", "linux", "regular"
#: Above this many combinations of per-axis codes, distinct states are found by hashing.
_DIRECT_KEY_LIMIT = 1 << 22


@dataclass(frozen=True)
class _Plan:
    """What one billing run needs, resolved once (and picklable, for Dask workers)."""

    edition: Edition
    prices: PriceTable
    granularity: str
    unit: int
    lo: float | None
    hi: float | None
    axes: tuple[str, ...]
    sku: str | None
    os: str | None
    priority: str | None
    holding: frozenset[str] = frozenset()


def _make_plan(
    edition: str | Edition | None,
    prices: PriceTable | None,
    granularity: str,
    start: TimeLike | None,
    end: TimeLike | None,
    sku: str | None,
    os: str | None,
    priority: str | None,
    lc: Lifecycle | None,
) -> _Plan:
    lc = lc or lifecycle()
    ed = edition if isinstance(edition, Edition) else lc.edition(edition)
    if granularity not in GRANULARITIES:
        raise UnknownNameError("granularity", granularity, GRANULARITIES)
    return _Plan(
        edition=ed,
        prices=prices or SAMPLE_PRICES,
        granularity=granularity,
        unit=GRANULARITIES[granularity],
        lo=None if start is None else to_epoch(start),
        hi=None if end is None else to_epoch(end),
        axes=tuple(lc.axes),
        sku=sku,
        os=os,
        priority=priority,
        holding=frozenset(op.id for op in lc.operations.values() if op.keeps_host),
    )


def bill_frame(
    steps: pd.DataFrame | str | PathLike[str] | Any,
    *,
    edition: str | Edition | None = None,
    prices: PriceTable | None = None,
    granularity: str = "minute",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    sku: str | None = None,
    os: str | None = None,
    priority: str | None = None,
    lifecycle: Lifecycle | None = None,
) -> pd.DataFrame:
    """Bill a fleet's steps per VM and component, vectorized.

    Args:
        steps: a long DataFrame of steps (see the module doc for its columns), a path to a
            Parquet file or a directory of Parquet files (read with pyarrow), or a
            ``pyarrow.Table``.
        edition: an edition id or object; default the newest.
        prices: a :class:`~vmlife.billing.prices.PriceTable`; default the labelled sample.
        granularity: ``minute`` (default), ``second`` or ``hour``: each continuous run of a
            component is floored to whole units.
        start, end: clip the billing period (any time value); ``end`` also closes each VM's
            open last step.
        sku, os, priority: price every VM with this size, OS or priority instead of the
            table's columns.
        lifecycle: the lifecycle whose axes and editions to use; default the loaded one.

    Returns:
        One row per VM (in order of first appearance) and component (``compute``,
        ``license``, ``other``), with columns ``vm``, ``component``, ``runs`` (continuous
        runs billed), ``seconds`` (their real length), ``billed_seconds`` (after flooring)
        and ``cost`` (rounded to 6 decimals, as the meter's per-VM costs). ``df.attrs`` holds
        the edition, currency, granularity, period, price source and notes.

    Raises:
        InputError: a missing ``vm`` or ``start`` column, a missing start time, or a step
            ending before it starts.
        UnknownNameError: an unknown edition, granularity or price row.

    Example:
        >>> import pandas as pd
        >>> steps = pd.DataFrame({
        ...     "vm": ["a", "a", "b"],
        ...     "start": [0, 3600, 0],
        ...     "power": ["running", "deallocated", "running"],
        ... })
        >>> out = bill_frame(steps, end=7200)
        >>> out.loc[out.component == "compute", ["vm", "billed_seconds"]].values.tolist()
        [['a', 3600.0], ['b', 7200.0]]
    """
    plan = _make_plan(edition, prices, granularity, start, end, sku, os, priority, lifecycle)
    return _bill_pandas(_to_pandas(steps, plan.axes), plan)


def bill_events(
    events: pd.DataFrame | str | PathLike[str] | Any,
    *,
    format: str = "auto",
    initial: str | None = None,
    strict: bool = False,
    inventory: Inventory | None = None,
    shuffle: bool = False,
    **bill_kw: Any,
) -> pd.DataFrame | Any:
    """Bill Activity Log events (or polled snapshots) of many VMs in one call.

    The events are replayed into timelines by :func:`vmlife.io.history.read_history` (the
    Started-to-Succeeded span of each operation is its transitional state; a VM's state before
    its first event holds from ``start=`` when given), then billed by :func:`bill_frame`. The
    anomalies found are in ``df.attrs["anomalies"]``, the reader's notes in
    ``df.attrs["notes"]``.

    Args:
        events: a DataFrame with one Activity Log record per row (REST or export columns, as
            ``pandas.json_normalize`` or ``pd.DataFrame(records)`` give them: nested fields
            such as ``operationName.value`` may be flattened), a list of records, or a file.
        format, initial, strict: as for :func:`~vmlife.io.history.read_history`.
        inventory: what each VM is (:func:`vmlife.io.inventory.read_inventory`): size, OS,
            licence, region, priority and disks become each VM's attributes before its
            events replay, and price it. VMs it does not list are in
            ``df.attrs["not_in_inventory"]``, priced by
            :data:`vmlife.billing.meter.FALLBACK`.
        shuffle: for a Dask DataFrame only: first move each VM's events into one partition
            (``ddf.shuffle`` on the lower-cased resource id).
        **bill_kw: as for :func:`bill_frame` (edition, prices, granularity, start, end, ...).
            Without ``end``, every VM's last state is billed until the input's last change
            (:func:`vmlife.timeline.last_change`), as ``vmlife bill`` does.

    **Beyond one machine.** ``events`` may be a Dask DataFrame of Activity Log events (say
    ``dd.read_json("log/*.jsonl", lines=True)`` or ``dd.read_parquet("log/")``) whose
    partitions each hold *all* the events of the VMs they have, as shards written per VM are
    (``shuffle=True`` arranges it otherwise). Read them with Dask's
    ``dataframe.convert-string`` option off, or Dask turns nested fields (``properties``) into
    text (an :class:`~vmlife.errors.InputError` says so). Each partition is then read, replayed
    and billed
    where it lives, and the result is a lazy Dask DataFrame with :func:`bill_frame`'s columns
    whose ``.compute()`` equals the one-process result (rows in partition order; the
    anomalies and notes, which do not travel through Dask, are not attached). Give ``end=``
    (and ``start=``) so that every partition bills the same period: without it each partition
    ends at its own last change.
    """
    import pandas as pd

    from ..io.history import read_history
    from ..timeline import last_change

    if _is_dask_frame(events):
        return _bill_events_dask(events, shuffle, dict(format=format, initial=initial,
                                                       strict=strict, inventory=inventory,
                                                       **bill_kw))

    source: Any = events
    if isinstance(events, pd.DataFrame):
        source = [_unflatten(r) for r in events.to_dict("records")]
    history = read_history(source, format=format, initial=initial, strict=strict, quiet=True,
                           start=bill_kw.get("start"), inventory=inventory)
    if bill_kw.get("end") is None:  # as vmlife bill: every VM billed to the input's last change
        bill_kw["end"] = last_change(history.timelines)
    out = bill_frame(steps_frame(history.timelines), **bill_kw)
    out.attrs["anomalies"] = [a.as_dict() for a in history.anomalies]
    out.attrs["notes"] = [*out.attrs.get("notes", []), *history.notes]
    if inventory is not None:
        from .meter import FALLBACK

        missing = [t.vm for t in history.timelines if inventory.find(
            t.vm, t.attributes.get("resource_id")) is None]
        out.attrs["inventory"] = inventory.source
        out.attrs["not_in_inventory"] = missing
        out.attrs["fallback"] = FALLBACK if missing else None
    return out


def _is_dask_frame(obj: Any) -> bool:
    """True for a Dask DataFrame (without importing Dask when it is not loaded)."""
    import sys

    dd = sys.modules.get("dask.dataframe")
    return dd is not None and isinstance(obj, dd.DataFrame)


#: The columns that name an event's resource, in the shapes the Activity Log reader takes.
_RESOURCE_COLUMNS = ("resourceId", "_ResourceId", "ResourceId")


def _bill_events_dask(ddf: Any, shuffle: bool, kwargs: dict[str, Any]) -> Any:
    """:func:`bill_events` on each partition of a Dask DataFrame of events (lazy)."""
    import pandas as pd

    nested = "properties"  # an object in every Activity Log shape (REST and export)
    if (
        nested in ddf.columns
        and pd.api.types.is_string_dtype(ddf[nested].dtype)
        and not pd.api.types.is_object_dtype(ddf[nested].dtype)
    ):
        raise InputError(
            "Dask turned the nested fields of the events into text (its "
            "'dataframe.convert-string' option), so they cannot be read: read or build the "
            "frame inside `with dask.config.set({'dataframe.convert-string': False}):`",
            source="<dask>", field=nested,
        )
    if shuffle:
        column = next((c for c in _RESOURCE_COLUMNS if c in ddf.columns), None)
        if column is None:
            raise InputError(
                f"cannot shuffle the events by VM: no column {' or '.join(_RESOURCE_COLUMNS)}",
                source="<dask>", field="resourceId",
            )
        key = "_vmlife_vm"
        ddf = ddf.assign(**{key: ddf[column].astype(str).str.strip().str.lower()})
        ddf = ddf.shuffle(key).drop(columns=[key])
    meta = pd.DataFrame({
        "vm": pd.Series([], dtype=object), "component": pd.Series([], dtype=object),
        "runs": pd.Series([], dtype="int64"), "seconds": pd.Series([], dtype="float64"),
        "billed_seconds": pd.Series([], dtype="float64"),
        "cost": pd.Series([], dtype="float64"),
    })
    return ddf.map_partitions(_bill_events_partition, kwargs, meta=meta)


def _bill_events_partition(part: pd.DataFrame, kwargs: dict[str, Any]) -> pd.DataFrame:
    """Bill one Dask partition of events (module level, so workers can unpickle it)."""
    import pandas as pd

    if part.empty:
        return pd.DataFrame({c: [] for c in RESULT_COLUMNS})
    out = bill_events(part, **kwargs)
    out.attrs = {}  # attrs do not travel through Dask's concatenation
    return out


def _unflatten(record: dict[str, Any]) -> dict[str, Any]:
    """``{"operationName.value": x}`` back to ``{"operationName": {"value": x}}``; NaN dropped;
    timestamps (a reader that parsed the times) back to ISO 8601 text."""
    from datetime import datetime, timezone

    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, float) and value != value:  # NaN from a ragged frame
            continue
        if value is None or type(value).__name__ == "NaTType":
            continue
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=timezone.utc)
            value = value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        node = out
        parts = str(key).split(".")
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                break
            node = nxt
        else:
            node[parts[-1]] = value
            continue
        out[str(key)] = value
    return out


def bill_dask(
    ddf: Any,
    *,
    edition: str | Edition | None = None,
    prices: PriceTable | None = None,
    granularity: str = "minute",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    sku: str | None = None,
    os: str | None = None,
    priority: str | None = None,
    shuffle: bool = False,
    lifecycle: Lifecycle | None = None,
) -> Any:
    """Bill a Dask DataFrame of steps, one partition at a time (lazy).

    Each partition must hold *all* the steps of the VMs it has (a VM split across two
    partitions would be billed twice, once per part); ``shuffle=True`` first moves each VM's
    rows into one partition with ``ddf.shuffle("vm")``. The arguments and the result's
    columns are those of :func:`bill_frame`; the edition, prices and period are resolved
    here, on the client, so the workers need only vmlife installed.

    Returns:
        A lazy Dask DataFrame; ``.compute()`` gives the pandas result (row order follows the
        partitions).

    Example::

        import dask.dataframe as dd
        ddf = dd.read_parquet("steps/")          # written partitioned by VM
        bill_dask(ddf, edition="2023-10", end="2024-02-01").compute()
    """
    plan = _make_plan(edition, prices, granularity, start, end, sku, os, priority, lifecycle)
    if shuffle:
        ddf = ddf.shuffle("vm")
    meta = _bill_pandas(ddf._meta, plan)
    return ddf.map_partitions(_bill_partition, plan, meta=meta)


def _bill_partition(part: pd.DataFrame, plan: _Plan) -> pd.DataFrame:
    """Bill one Dask partition (a module-level function, so workers can unpickle it)."""
    out = _bill_pandas(part, plan)
    out.attrs = {}  # attrs do not travel through Dask's concatenation
    return out


def steps_frame(timelines: Timeline | Iterable[Timeline]) -> pd.DataFrame:
    """The long steps table of some timelines: the input :func:`bill_frame` takes.

    Columns: ``vm``, ``start`` (epoch seconds), one per axis the timelines use, and ``sku``,
    ``os``, ``priority`` from each timeline's attributes when it has them.
    """
    import pandas as pd

    items = [timelines] if isinstance(timelines, Timeline) else list(timelines)
    axes: dict[str, None] = {}
    rows: list[dict[str, Any]] = []
    for tl in items:
        attrs = tl.attributes
        extra = {
            k: str(v)
            for k, v in (
                ("sku", attrs.get("size") or attrs.get("sku")),
                ("os", attrs.get("os")),
                ("priority", attrs.get("priority")),
                ("region", attrs.get("region")),
            )
            if v
        }
        if attrs.get("disks"):
            extra["disks"] = json.dumps(attrs["disks"])
        for step in tl:
            row: dict[str, Any] = {"vm": tl.vm, "start": step.start,
                                   "operation": step.operation}
            for axis, sid in step.state.items():
                axes.setdefault(axis)
                row[axis] = sid
            row.update(extra)
            rows.append(row)
    columns = ["vm", "start", "operation", *axes]
    for col in ("sku", "os", "priority", "region", "disks"):
        if any(col in r for r in rows):
            columns.append(col)
    return pd.DataFrame(rows, columns=columns).astype({"start": "float64"})


# ------------------------------------------------------------------------------ reading
def _to_pandas(steps: Any, axes: Sequence[str]) -> pd.DataFrame:
    """A DataFrame from a DataFrame, a Parquet path or a pyarrow Table (needed columns only)."""
    import pandas as pd

    if isinstance(steps, pd.DataFrame):
        return steps
    if isinstance(steps, (str, PathLike)):
        import pyarrow.dataset as ds

        dataset = ds.dataset(str(steps), format="parquet")
        wanted = {"vm", "start", "end", "sku", "size", "os", "priority", "region", "disks",
                  "operation", *axes}
        cols = [c for c in dataset.schema.names if c in wanted]
        return dataset.to_table(columns=cols).to_pandas()
    if hasattr(steps, "to_pandas"):
        return steps.to_pandas()
    raise TypeError(
        "bill_frame takes a pandas DataFrame, a Parquet path or a pyarrow Table, "
        f"not {type(steps).__name__}"
    )


def _epoch(col: pd.Series, name: str) -> np.ndarray:
    """Epoch seconds (float64, NaN for missing) from numbers, datetimes or ISO text."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        numbers: np.ndarray = col.to_numpy(dtype="float64", na_value=np.nan)
        return numbers
    if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(col.dtype):
        ts = col if isinstance(col.dtype, pd.DatetimeTZDtype) else col.dt.tz_localize("UTC")
    else:
        try:
            ts = pd.to_datetime(col, utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise InputError(f"not a time: {exc}", field=name) from None
    ns = ts.dt.tz_convert("UTC").dt.as_unit("ns")
    values = ns.to_numpy(dtype="datetime64[ns]").view("int64")
    out: np.ndarray = values / 1e9
    out[ns.isna().to_numpy()] = np.nan
    return out


def _codes(col: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Integer codes (-1 for missing) and the values they stand for."""
    import numpy as np
    import pandas as pd

    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(dtype=np.int64), list(col.cat.categories)
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    return codes.astype(np.int64, copy=False), list(uniques)


# ------------------------------------------------------------------------------ billing
def _bill_pandas(df: pd.DataFrame, plan: _Plan) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    for col in ("vm", "start"):
        if col not in df.columns:
            raise InputError(f"the steps table has no {col!r} column", field=col)
    n = len(df)
    vm_col = df["vm"]
    vm_codes, vm_labels = pd.factorize(vm_col, sort=False)  # codes in order of appearance
    vm_codes = vm_codes.astype(np.int64, copy=False)
    if n and (vm_codes < 0).any():
        raise InputError("a step has no VM", field="vm")
    nvm = len(vm_labels)
    s_raw = _epoch(df["start"], "start")
    if np.isnan(s_raw).any():
        raise InputError("a step has no start time", field="start")
    e_given = _epoch(df["end"], "end") if "end" in df.columns else None
    axis_cols = [a for a in plan.axes if a in df.columns]
    if not axis_cols:
        raise InputError(
            "the steps table has no state column; expected one or more of "
            + ", ".join(plan.axes),
            field="power",
        )

    # Stable sort by VM (order of appearance) and start, unless already so.
    order = None
    if n > 1:
        same_vm = vm_codes[1:] == vm_codes[:-1]
        grouped = bool((vm_codes[1:] >= vm_codes[:-1]).all())
        in_time = bool((s_raw[1:] >= s_raw[:-1])[same_vm].all())
        if not (grouped and in_time):
            order = np.lexsort((s_raw, vm_codes))
            vm_codes, s_raw = vm_codes[order], s_raw[order]
            if e_given is not None:
                e_given = e_given[order]

    # The key of each step's composite state, and the components each distinct state bills.
    key = np.zeros(n, dtype=np.int64)
    mult = 1
    decoders: list[tuple[str, list[Any], int]] = []
    for axis in axis_cols:
        codes, values = _codes(df[axis])
        if order is not None:
            codes = codes[order]
        key += (codes + 1) * mult
        decoders.append((axis, values, mult))
        mult *= len(values) + 1
    if mult <= _DIRECT_KEY_LIMIT:
        present = np.flatnonzero(np.bincount(key, minlength=mult)) if n else key[:0]
        state_index = key
        keys = present
        nstates = mult
    else:  # too many combinations for a direct table: number the distinct keys instead
        state_index, keys = pd.factorize(key, sort=False)
        state_index = state_index.astype(np.int64, copy=False)
        nstates = len(keys)
    table = np.zeros((len(COMPONENTS), nstates), dtype=bool)
    exists_table = np.zeros(nstates, dtype=bool)
    blind_table = np.zeros(nstates, dtype=bool)
    for pos, k in enumerate(keys):
        axes_of: dict[str, str] = {}
        for axis, values, m in decoders:
            code = (int(k) // m) % (len(values) + 1) - 1
            if code >= 0:
                axes_of[axis] = str(values[code])
        state = VMState(axes_of)
        comps = billed_components(state, plan.edition)
        slot = int(k) if mult <= _DIRECT_KEY_LIMIT else pos
        exists_table[slot] = state.exists
        blind_table[slot] = state.exists and state.power in (None, "unknown")
        for i, comp in enumerate(COMPONENTS):
            table[i, slot] = comp in comps
    exists = exists_table[state_index]
    per_row = _held(table, state_index, blind_table[state_index] | _holding_rows(df, order, plan)
                    & exists, vm_codes)

    # Each step's end: given, or the VM's next start; a VM's last step is open (NaN).
    e_raw = np.empty(n, dtype=np.float64)
    if n:
        e_raw[:-1] = s_raw[1:]
        e_raw[-1] = np.nan
        e_raw[:-1][vm_codes[1:] != vm_codes[:-1]] = np.nan
    if e_given is not None:
        if (e_given < s_raw).any():
            raise InputError("a step ends before it starts", field="end")
        e_raw = np.where(np.isnan(e_given), e_raw, e_given)
    notes: list[str] = []
    if plan.prices.sample:
        notes.append(f"Prices: {plan.prices.source}. Pass your own for real costs.")
    is_open = np.isnan(e_raw)
    if plan.hi is None:
        open_alive = int((is_open & exists).sum())
        if open_alive:
            notes.append(
                f"{open_alive} VM(s) have a last state that is still open; it is billed only "
                f"up to its start: give an end time to bill it"
            )
        e = np.where(is_open, s_raw, e_raw)
    else:
        e = np.where(is_open, np.where(exists, np.maximum(plan.hi, s_raw), s_raw), e_raw)
    s = s_raw if plan.lo is None else np.maximum(s_raw, plan.lo)
    if plan.hi is not None:
        e = np.minimum(e, plan.hi)

    # Steps that last (after clipping); runs are found among these only, as the meter does.
    keep = np.flatnonzero(e > s)
    kv, ks, ke = vm_codes[keep], s[keep], e[keep]
    linked = (kv[1:] == kv[:-1]) & (ks[1:] == ke[:-1])  # continues the previous kept step

    price_of, monthly_of, notes_of = _vm_prices(df, order, vm_codes, nvm, plan)
    notes.extend(notes_of)
    unit = plan.unit
    runs_out = np.zeros((nvm, len(COMPONENTS)), dtype=np.int64)
    secs_out = np.zeros((nvm, len(COMPONENTS)))
    billed_out = np.zeros((nvm, len(COMPONENTS)))
    cost_out = np.zeros((nvm, len(COMPONENTS)))
    for i in range(len(COMPONENTS)):
        m = per_row[i][keep]
        link = m[1:] & m[:-1] & linked
        first = m.copy()
        first[1:] &= ~link
        last = m.copy()
        last[:-1] &= ~link
        run_vm = kv[first]
        secs = ke[last] - ks[first]
        billed = np.floor(secs / unit + 1e-9) * unit
        cost = billed / 3600 * price_of[i][run_vm]
        if COMPONENTS[i] == "other" and monthly_of.any():
            starts = ks[first]
            for j in np.flatnonzero(monthly_of[run_vm]):
                cost[j] += monthly_of[run_vm[j]] * month_fraction(
                    float(starts[j]), float(starts[j] + billed[j]))
        cost = _round(cost, 10)
        runs_out[:, i] = np.bincount(run_vm, minlength=nvm)
        secs_out[:, i] = np.bincount(run_vm, weights=secs, minlength=nvm)
        billed_out[:, i] = np.bincount(run_vm, weights=billed, minlength=nvm)
        cost_out[:, i] = np.bincount(run_vm, weights=cost, minlength=nvm)

    labels = np.asarray(vm_labels)
    vm_dtype = vm_col.dtype.categories.dtype if isinstance(vm_col.dtype, pd.CategoricalDtype) \
        else vm_col.dtype
    out = pd.DataFrame(
        {
            "vm": pd.array(np.repeat(labels, len(COMPONENTS)), dtype=vm_dtype),
            "component": pd.array(np.tile(np.array(COMPONENTS, dtype=object), nvm), dtype=str),
            "runs": runs_out.ravel(),
            "seconds": secs_out.ravel(),
            "billed_seconds": billed_out.ravel(),
            "cost": _round(cost_out.ravel(), 6),
        },
        columns=list(RESULT_COLUMNS),
    )
    out.attrs = {
        "edition": plan.edition.id,
        "currency": plan.prices.currency,
        "granularity": plan.granularity,
        "start": plan.lo,
        "end": plan.hi,
        "prices": plan.prices.source,
        "sample_prices": plan.prices.sample,
        "notes": notes,
    }
    return out


def _holding_rows(df: pd.DataFrame, order: np.ndarray | None, plan: _Plan) -> np.ndarray:
    """Rows of an operation that keeps the host (a restart), from the ``operation`` column."""
    import numpy as np

    if "operation" not in df.columns or not plan.holding:
        return np.zeros(len(df), dtype=bool)
    rows: np.ndarray = df["operation"].isin(list(plan.holding)).to_numpy(dtype=bool)
    return rows if order is None else rows[order]


def _held(
    table: np.ndarray, state_index: np.ndarray, hold: np.ndarray, vm_codes: np.ndarray
) -> np.ndarray:
    """Components billed per row: a holding row (unknown power state, a restart's phase)
    bills the compute and licence of the VM's last row that does not hold, as the meter does;
    a VM's first rows, with none before, bill their own."""
    import numpy as np

    billed: np.ndarray = table[:, state_index]
    n = len(state_index)
    if n == 0 or not hold.any():
        return billed
    index = np.arange(n)
    first = np.maximum.accumulate(np.where(np.r_[True, vm_codes[1:] != vm_codes[:-1]], index, 0))
    source = np.maximum.accumulate(np.where(hold, -1, index))  # the last row that does not hold
    rows = hold & (source >= first)  # ... of the same VM
    held_state = state_index[source[rows]]
    other = COMPONENTS.index("other")
    for i in range(len(COMPONENTS)):
        if i != other:
            billed[i, rows] = table[i, held_state]
    return billed


def _vm_prices(
    df: pd.DataFrame, order: np.ndarray | None, vm_codes: np.ndarray, nvm: int, plan: _Plan
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Hourly price per component (rows) and VM (columns), each VM's monthly disk price, and
    notes on disks that could not be priced, from each VM's first step."""
    import numpy as np
    import pandas as pd

    prices = np.zeros((len(COMPONENTS), nvm))
    monthly = np.zeros(nvm)
    if nvm == 0:
        return prices, monthly, []
    heads = np.flatnonzero(np.r_[True, vm_codes[1:] != vm_codes[:-1]])
    rows = heads if order is None else order[heads]

    def column(names: tuple[str, ...], forced: str | None, default: str) -> pd.Index:
        if forced is not None:
            return pd.Index([forced] * nvm, dtype=object)
        for name in names:
            if name in df.columns:
                values = df[name].iloc[rows].astype(object)
                values = values.where(values.notna() & (values != ""), default)
                return pd.Index(values.astype(str).to_numpy(dtype=object))
        return pd.Index([default] * nvm, dtype=object)

    skus = column(("sku", "size"), plan.sku, _DEFAULT_SKU)
    oses = column(("os",), plan.os, _DEFAULT_OS).str.lower()
    prios = column(("priority",), plan.priority, _DEFAULT_PRIORITY)
    regions = column(("region",), None, "")
    disks = column(("disks",), None, "")
    names = df["vm"].iloc[rows].astype(str).to_numpy(dtype=object)
    combo_of_vm, combos = pd.MultiIndex.from_arrays(
        [skus, oses, prios, regions, disks]).factorize()
    first_vm = {int(c): names[i] for i, c in reversed(list(enumerate(combo_of_vm)))}
    hourly = np.zeros((len(combos), len(COMPONENTS)))
    per_month = np.zeros(len(combos))
    notes: list[str] = []
    for k, (sku, os_name, prio, region, disk_text) in enumerate(combos):
        attrs: dict[str, Any] = {"size": sku, "os": os_name, "priority": prio,
                                 "region": region or None}
        if disk_text:
            try:
                attrs["disks"] = json.loads(disk_text)
            except ValueError:
                raise InputError("not JSON: the disks of a VM", field="disks") from None
        price, disk_notes = plan.prices.price_for(attrs, vm=first_vm[k])
        notes.extend(disk_notes)
        hourly[k] = [price.per_hour(c) for c in COMPONENTS]
        per_month[k] = price.other_monthly
    prices[:, vm_codes[heads]] = hourly[combo_of_vm].T
    monthly[vm_codes[heads]] = per_month[combo_of_vm]
    return prices, monthly, notes


def _round(x: np.ndarray, ndigits: int) -> np.ndarray:
    """``round(v, ndigits)`` of every value, exactly as Python's ``round`` (the meter's).

    ``numpy.round`` scales, rounds to an integer and scales back; that integer is the correct
    one except when the scaled value lies within rounding error of a half, where Python's
    correctly rounded ``round`` may go the other way. Those few values are redone with
    Python's ``round``; for the rest, both divide the same integer by ``10**ndigits``.
    """
    import numpy as np

    scale = 10.0**ndigits
    scaled = x * scale
    out: np.ndarray = np.rint(scaled) / scale
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) <= 4 * np.spacing(np.abs(scaled))
    for i in np.flatnonzero(near_half | ~np.isfinite(scaled)):
        out[i] = round(float(x[i]), ndigits)
    return out
