"""Fleet billing (vectorized) against the per-VM meter, which is the reference."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")

import vmlife  # noqa: E402
from vmlife import VM  # noqa: E402
from vmlife.billing.fleet import RESULT_COLUMNS, bill_dask, bill_frame, steps_frame  # noqa: E402
from vmlife.billing.meter import bill  # noqa: E402
from vmlife.timeutil import to_epoch  # noqa: E402

T0 = "2024-01-01T00:00:00Z"
EDITIONS = ["draft", "lifecycle", "2018-08", "2021-03", "2023-10"]
GRANULARITIES = ["second", "minute", "hour"]
OPS = [
    "power_off", "deallocate", "start", "restart", "redeploy", "guest_shutdown", "update",
    "delete", "create",
]


def assert_same(fleet: pd.DataFrame, ref: vmlife.billing.meter.Bill) -> None:
    """Every VM and component: identical billed seconds and cost (exact float equality)."""
    assert list(fleet.columns) == list(RESULT_COLUMNS)
    assert list(dict.fromkeys(fleet["vm"])) == [v.vm for v in ref.vms]
    by_key = {(r.vm, r.component): r for r in fleet.itertuples(index=False)}
    for v in ref.vms:
        for comp, secs in v.billed_seconds.items():
            row = by_key[(v.vm, comp)]
            assert row.billed_seconds == secs, (v.vm, comp)
            assert row.cost == v.cost[comp], (v.vm, comp)
            runs = [r for r in v.runs if r.component == comp]
            assert row.runs == len(runs), (v.vm, comp)
            assert row.seconds == pytest.approx(sum(r.seconds for r in runs)), (v.vm, comp)


@st.composite
def fleets(draw: st.DrawFn) -> list[vmlife.Timeline]:
    """A few VMs, each driven by random allowed operations with random gaps."""
    out = []
    for i in range(draw(st.integers(1, 4))):
        attrs = {
            "size": draw(st.sampled_from(["Standard_D2s_v5", "Standard_D4s_v5"])),
            "os": draw(st.sampled_from(["linux", "windows"])),
        }
        first = draw(st.sampled_from(["running", "stopped", "deallocated", "create"]))
        vm = VM(f"vm-{i}", start=T0, state=None if first == "create" else first, **attrs)
        if first == "create":
            vm.create(generalized=draw(st.booleans()))
        for _ in range(draw(st.integers(0, 10))):
            op = draw(st.sampled_from(OPS))
            gap = draw(st.sampled_from([0, 1, 30, 59, 61, 600, 3599, 3601, 20000]))
            if op in vm.allowed():
                fail = draw(st.sampled_from([None, None, None, "AllocationFailed"]))
                if fail and op in ("create", "guest_shutdown"):
                    fail = None
                vm.do(op, at=vm.clock + gap, fail=fail)
        out.append(vm.timeline)
    return out


PERIOD = st.tuples(
    st.one_of(st.none(), st.integers(0, 2 * 86400)),
    st.one_of(st.none(), st.integers(0, 3 * 86400)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets(), st.sampled_from(EDITIONS), st.sampled_from(GRANULARITIES), PERIOD)
def test_fleet_matches_the_meter(
    tls: list[vmlife.Timeline], edition: str, gran: str, period: tuple[int | None, int | None]
) -> None:
    t0 = to_epoch(T0)
    lo = None if period[0] is None else t0 + period[0]
    hi = None if period[1] is None else t0 + period[1]
    if lo is not None and hi is not None and hi < lo:
        lo, hi = hi, lo
    ref = bill(tls, edition=edition, granularity=gran, start=lo, end=hi)
    fleet = bill_frame(steps_frame(tls), edition=edition, granularity=gran, start=lo, end=hi)
    assert_same(fleet, ref)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(tls: list[vmlife.Timeline], rnd: object) -> None:
    end = to_epoch(T0) + 3 * 86400
    df = steps_frame(tls)
    ref = bill_frame(df, end=end)
    shuffled = df.sample(frac=1.0, random_state=np.random.RandomState(len(df)))
    out = bill_frame(shuffled.reset_index(drop=True), end=end)
    # VMs come out in order of first appearance; the numbers are the same
    key = ["vm", "component"]
    pd.testing.assert_frame_equal(
        out.sort_values(key).reset_index(drop=True), ref.sort_values(key).reset_index(drop=True)
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fleets())
def test_categorical_datetime_and_explicit_end_inputs_agree(tls: list[vmlife.Timeline]) -> None:
    end = to_epoch(T0) + 3 * 86400
    df = steps_frame(tls)
    plain = bill_frame(df, end=end)
    cat = df.copy()
    for col in cat.columns:
        if col != "start":
            cat[col] = cat[col].astype("category")
    cat["start"] = pd.to_datetime(cat["start"], unit="s", utc=True)
    pd.testing.assert_frame_equal(bill_frame(cat, end=end), plain, check_dtype=False)
    ends = df.copy()
    ends["end"] = ends.groupby("vm", sort=False)["start"].shift(-1)
    pd.testing.assert_frame_equal(bill_frame(ends, end=end), plain)


def test_single_power_column_and_the_doc_example() -> None:
    steps = pd.DataFrame({
        "vm": ["a", "a", "a", "b"],
        "start": [0, 3600, 3600 + 405, 0],
        "power": ["running", "starting", "deallocated", "running"],
        "os": ["windows", "windows", "windows", None],
    })
    out = bill_frame(steps, end=7200, edition="2023-10").set_index(["vm", "component"])
    assert out.loc[("a", "compute"), "billed_seconds"] == 3600 + 360  # 6 min 45 s -> 6 min
    assert out.loc[("a", "license"), "cost"] == round(4005 // 60 * 60 / 3600 * 0.092, 6)
    assert out.loc[("b", "license"), "cost"] == 0.0  # linux by default
    assert out.loc[("b", "compute"), "billed_seconds"] == 7200
    old = bill_frame(steps, end=7200, edition="draft").set_index(["vm", "component"])
    assert old.loc[("a", "compute"), "billed_seconds"] == 3600  # Starting not billed in draft


def test_open_last_state_is_noted_without_an_end() -> None:
    steps = pd.DataFrame({"vm": ["a"], "start": [0.0], "power": ["running"]})
    out = bill_frame(steps)
    assert out["billed_seconds"].sum() == 0
    assert any("still open" in n for n in out.attrs["notes"])


def test_gaps_given_by_an_end_column_break_runs() -> None:
    steps = pd.DataFrame({
        "vm": ["a", "a"],
        "start": [0.0, 100.0],
        "end": [90.0, 190.0],
        "power": ["running", "running"],
    })
    out = bill_frame(steps, granularity="minute").set_index(["vm", "component"])
    assert out.loc[("a", "compute"), "runs"] == 2
    assert out.loc[("a", "compute"), "billed_seconds"] == 120  # 90 s -> 60 s, twice


def test_bad_input_is_a_typed_error() -> None:
    with pytest.raises(vmlife.InputError, match="no 'vm' column"):
        bill_frame(pd.DataFrame({"start": [0.0], "power": ["running"]}))
    with pytest.raises(vmlife.InputError, match="no state column"):
        bill_frame(pd.DataFrame({"vm": ["a"], "start": [0.0]}))
    with pytest.raises(vmlife.InputError, match="ends before it starts"):
        bill_frame(pd.DataFrame({"vm": ["a"], "start": [5.0], "end": [1.0], "power": ["running"]}))
    with pytest.raises(vmlife.UnknownNameError):
        bill_frame(pd.DataFrame({"vm": ["a"], "start": [0.0], "power": ["running"]}),
                   granularity="fortnight")


def test_empty_frame() -> None:
    empty = pd.DataFrame({"vm": pd.Series([], dtype=str), "start": pd.Series([], dtype=float),
                          "power": pd.Series([], dtype=str)})
    out = bill_frame(empty)
    assert list(out.columns) == list(RESULT_COLUMNS) and out.empty


def test_parquet_file_and_dataset(tmp_path: os.PathLike[str]) -> None:
    pytest.importorskip("pyarrow")
    vms = [VM(f"p{i}", start=T0, state="running", os="windows") for i in range(3)]
    for i, vm in enumerate(vms):
        vm.power_off(at=to_epoch(T0) + 3600 * (i + 1)).deallocate(at=vm.clock + 100)
    df = steps_frame([vm.timeline for vm in vms])
    end = to_epoch(T0) + 86400
    expected = bill_frame(df, end=end)
    path = f"{tmp_path}/steps.parquet"
    df.to_parquet(path)
    pd.testing.assert_frame_equal(bill_frame(path, end=end), expected)
    folder = f"{tmp_path}/dataset"
    os.mkdir(folder)
    for i, (_, part) in enumerate(df.groupby("vm", sort=False)):
        part.to_parquet(f"{folder}/part-{i}.parquet")
    pd.testing.assert_frame_equal(bill_frame(folder, end=end), expected)


def test_import_vmlife_billing_fleet_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vmlife.billing.fleet\n"
        "print([m for m in ('pandas', 'numpy', 'pyarrow', 'dask') if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_bill_dask_on_a_two_worker_local_cluster() -> None:
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    tls = []
    for i in range(12):
        vm = VM(f"d{i}", start=T0, state="deallocated", os="windows" if i % 2 else "linux")
        for day in range(3):
            base = to_epoch(T0) + day * 86400
            vm.start(at=base + 8 * 3600 + i * 7).deallocate(at=base + 18 * 3600 + i * 13)
        tls.append(vm.timeline)
    df = steps_frame(tls)
    end = to_epoch(T0) + 4 * 86400
    expected = bill_frame(df, end=end, edition="2021-03")
    # partitions that do not hold whole VMs: shuffle=True puts each VM in one partition
    ddf = dd.from_pandas(df, npartitions=4, sort=False)
    # worker processes (the function and its arguments really travel); loopback only, and
    # the scheduler's HTTP endpoint on a free port so concurrent runs do not collide
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster, distributed.Client(cluster):
        got = bill_dask(ddf, end=end, edition="2021-03", shuffle=True).compute()
    key = ["vm", "component"]
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True),
        expected.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )


HALVES = [0.5e-6, 1.5e-6, 2.5e-6, 2.675, 0.0000125, 1.0000005, 0.12345650000000001, 5e-11, 1.5e-10]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(0, 1e6, allow_nan=False),
            st.integers(0, 10**9).map(lambda k: k / 2e6),  # exact halves at 6 digits
            st.integers(0, 10**6).map(lambda k: k * 60 / 3600 * 0.096),  # minute costs
            st.sampled_from(HALVES),
        ),
        max_size=40,
    ),
    st.sampled_from([6, 10]),
)
def test_vectorized_round_is_pythons_round(values: list[float], ndigits: int) -> None:
    from vmlife.billing.fleet import _round

    got = _round(np.array(values, dtype=float), ndigits).tolist()
    assert got == [round(v, ndigits) for v in values]


def test_bill_events_bills_an_activity_log_frame_in_one_call() -> None:
    import json
    from importlib import resources

    import pandas as pd

    from vmlife.billing.fleet import bill_events
    from vmlife.billing.meter import bill
    from vmlife.io.history import read_history

    sample = resources.files("vmlife") / "data" / "sample_activity_log.json"
    data = json.loads(sample.read_text())
    records = data["value"] if isinstance(data, dict) else data
    frame = pd.json_normalize(records)  # nested fields become "operationName.value" columns
    end = "2024-03-07T00:00:00Z"
    out = bill_events(frame, end=end, granularity="second")
    reference = bill(read_history(str(sample), quiet=True).timelines, end=end,
                     granularity="second")
    got = {(r.vm, r.component): r.billed_seconds for r in out.itertuples()}
    for v in reference.vms:
        for comp, secs in v.billed_seconds.items():
            assert got[(v.vm, comp)] == secs
    assert out.attrs["anomalies"] == []
    assert any("Guest-OS" in n for n in out.attrs["notes"])


def _export_events(n_vms: int = 9) -> list[dict[str, object]]:
    """Activity Log events in the export shape (what storage and Event Hubs shards hold): each
    VM started and deallocated on two days, one start failing, one event delivered twice."""
    import random

    rng = random.Random(5)
    out: list[dict[str, object]] = []
    for v in range(n_vms):
        rid = (f"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-{v % 3}"
               f"/providers/Microsoft.Compute/virtualMachines/vm-{v}")
        t = to_epoch(T0) + 3600 * v
        for i, action in enumerate(["start", "deallocate", "start", "deallocate"]):
            corr = f"{v:04d}-{i:04d}"
            fails = v == 4 and i == 3
            span = rng.randint(40, 200)
            phases = [("Start", "Started.", 0), ("Success" if not fails else "Failure",
                      "Succeeded.OK" if not fails else "Failed.Conflict", span)]
            for rtype, sig, dt in phases:
                event = {
                    "time": vmlife.timeutil.iso(t + dt).replace("Z", ".0000000Z"),
                    "resourceId": rid.upper(),
                    "operationName": f"MICROSOFT.COMPUTE/VIRTUALMACHINES/{action.upper()}/ACTION",
                    "resultType": rtype,
                    "resultSignature": sig,
                    "correlationId": corr,
                    "category": "Administrative",
                    "properties": {"statusCode": sig.split(".")[1], "entity": rid},
                }
                out.append(event)
                if v == 2 and i == 1 and rtype == "Start":
                    out.append(dict(event))  # delivered twice
            t += span + rng.randint(4, 14) * 3600
    return out


def test_bill_events_on_a_dask_frame_of_activity_log_shards(tmp_path: os.PathLike[str]) -> None:
    """JSON Lines and Parquet shards partitioned by VM, on a two-worker LocalCluster: the same
    bill as one process; shards mixing VMs give it too with shuffle=True."""
    import json
    from pathlib import Path

    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("pyarrow")
    from vmlife.billing.fleet import bill_events

    events = _export_events()
    end = to_epoch(T0) + 5 * 86400
    expected = bill_events(events, end=end, edition="2023-10")
    assert expected.attrs["anomalies"] == []  # the failed deallocate is a fact, not an anomaly
    assert len(set(expected["vm"])) == 9

    folder = Path(tmp_path)
    by_vm: dict[str, list[dict[str, object]]] = {}
    for e in events:
        by_vm.setdefault(str(e["resourceId"]), []).append(e)
    shards = [list(by_vm.values())[i::3] for i in range(3)]  # three shards, whole VMs each
    for i, vms in enumerate(shards):
        lines = [json.dumps(e) for vm_events in vms for e in vm_events]
        (folder / f"log-{i}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / "parquet").mkdir(exist_ok=True)
        pd.DataFrame([e for vm_events in vms for e in vm_events]).to_parquet(
            folder / "parquet" / f"part-{i}.parquet")

    key = ["vm", "component"]

    def same(got: pd.DataFrame) -> None:
        pd.testing.assert_frame_equal(
            got.sort_values(key).reset_index(drop=True),
            expected.sort_values(key).reset_index(drop=True),
            check_dtype=False,
        )

    with dask.config.set({"dataframe.convert-string": True}):  # Dask's default
        as_text = dd.read_json(str(folder / "log-*.jsonl"), lines=True, blocksize=None)
        with pytest.raises(vmlife.InputError, match="convert-string"):
            bill_events(as_text, end=end)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster, distributed.Client(cluster), dask.config.set(
        {"dataframe.convert-string": False}
    ):
        from_json = dd.read_json(str(folder / "log-*.jsonl"), lines=True, blocksize=None)
        assert from_json.npartitions == 3
        same(bill_events(from_json, end=end, edition="2023-10").compute())
        from_parquet = dd.read_parquet(str(folder / "parquet"))
        same(bill_events(from_parquet, end=end, edition="2023-10").compute())
        mixed = dd.from_pandas(pd.DataFrame(events), npartitions=4, sort=False)  # VMs split
        same(bill_events(mixed, end=end, edition="2023-10", shuffle=True).compute())
