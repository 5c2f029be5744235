"""Issue 14: each numbered reproducer (items 1-7 and 9) as a regression test.

Every test here failed on the code before the input layer (checked once with ``git stash``).
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

import vmlife
from vmlife.billing.meter import bill
from vmlife.billing.prices import load_prices
from vmlife.cli import main
from vmlife.errors import InputError
from vmlife.io.activity_log import read_activity_log
from vmlife.io.history import read_input
from vmlife.io.instance_view import read_instance_views_file
from vmlife.timeline import load_timelines

DATA = Path(__file__).parent / "data"
RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/"
PRICES_CSV = "sku,os,compute,license,other,currency\nStandard_D2s_v5,linux,0.1,0,0,USD\n"


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def event(op: str, status: str, t: str, corr: str, i: int, vm: str = "web-1") -> dict[str, Any]:
    return {
        "operationName": {"value": f"Microsoft.Compute/virtualMachines/{op}"},
        "status": {"value": status},
        "eventTimestamp": t,
        "correlationId": corr,
        "resourceId": RID + vm,
        "eventDataId": f"e{i}",
    }


def a_log(vm: str = "web-1", start: str = "2024-03-04T08:00:00Z") -> list[dict[str, Any]]:
    day = start[:10]
    return [
        event("start/action", "Started", start, "c1", 1, vm),
        event("start/action", "Succeeded", f"{day}T08:01:00Z", "c1", 2, vm),
        event("deallocate/action", "Started", f"{day}T10:00:00Z", "c2", 3, vm),
        event("deallocate/action", "Succeeded", f"{day}T10:00:30Z", "c2", 4, vm),
    ]


# ---------------------------------------------------------------- 1. bad UTF-8
def test_1_bad_utf8_in_status_and_prices_is_a_named_error(tmp_path: Path, capsys: Any) -> None:
    view = tmp_path / "view.json"
    view.write_bytes(b'{"statuses": [{"code": "PowerState/running", "x": "\xff\xfe\xfd"}]}')
    prices = tmp_path / "prices.csv"
    prices.write_bytes(PRICES_CSV.encode() + b"Standard_D4s_v5,linux,0.2,0,0,US\xff\n")
    code, _ = run("status", str(view))
    err = capsys.readouterr().err
    assert code == 2 and "view.json" in err and "UTF-8" in err and "Traceback" not in err
    log = tmp_path / "log.json"
    log.write_text(json.dumps(a_log()))
    code, _ = run("bill", str(log), "--prices", str(prices))
    err = capsys.readouterr().err
    assert code == 2 and "prices.csv" in err and "UTF-8" in err and "line 3" in err


# ---------------------------------------------------------------- 2. UTF-16 / BOM
def test_2_utf16_with_bom_reads_everywhere(tmp_path: Path) -> None:
    body = (DATA / "rest_instance_view.json").read_text(encoding="utf-8")
    for enc, data in [
        ("utf-16", body.encode("utf-16")),  # Windows PowerShell 5.1: az ... > file
        ("utf-8-sig", body.encode("utf-8-sig")),  # Out-File -Encoding utf8
    ]:
        path = tmp_path / f"view-{enc}.json"
        path.write_bytes(data)
        code, text = run("status", str(path), "--json")
        assert code == 0, enc
        assert json.loads(text)[0]["power"] == "running"
    log = tmp_path / "log.json"
    log.write_bytes(json.dumps(a_log()).encode("utf-16"))
    for cmd in ("timeline", "bill"):
        code, text = run(cmd, str(log), "--json")
        assert code == 0, cmd
    assert read_input(str(log)).counts.used == 4
    report_dir = tmp_path / "report"
    code, _ = run("report", str(log), "-o", str(report_dir), "--quiet")
    assert code == 0 and (report_dir / "index.html").exists()


def test_2_a_broken_utf16_file_names_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "view.json"
    path.write_bytes('{"statuses": [}'.encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16-LE"):
        read_instance_views_file(path)


# ---------------------------------------------------------------- 3. bounds
HUGE = ["[" + "1" * 4301 + "]", "[" * 100_000, '{"statuses": [' * 3000]


@pytest.mark.parametrize("text", HUGE, ids=["4301-digits", "deep-list", "deep-object"])
def test_3_huge_numbers_and_deep_nesting_are_input_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(InputError):
        read_instance_views_file(path)
    with pytest.raises(InputError):
        load_prices(path)
    timeline = tmp_path / "t.json"
    timeline.write_text('{"format": "vmlife.timeline", "version": 1, "timelines": ' + text + "}")
    with pytest.raises(InputError):
        read_input(str(timeline))


def test_3_a_400_digit_price_and_a_huge_csv_field(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(PRICES_CSV + "Standard_D4s_v5,linux," + "9" * 400 + ",0,0,USD\n")
    with pytest.raises(InputError) as err:
        load_prices(path)
    assert (err.value.record, err.value.field) == (2, "compute")
    path.write_text(PRICES_CSV + '"' + "x" * 140_000 + '",linux,1,0,0,USD\n')
    with pytest.raises(InputError, match="longer than 131072") as err:
        load_prices(path)
    assert err.value.record == 2
    js = tmp_path / "p.json"
    js.write_text('{"prices": [{"sku": "A", "os": "linux", "compute": 1' + "0" * 400 + "}]}")
    with pytest.raises(InputError):
        load_prices(js)


# ---------------------------------------------------------------- 4. NaN / Infinity
@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
def test_4_non_finite_times_in_a_timeline_file(tmp_path: Path, capsys: Any, bad: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(
        '{"format": "vmlife.timeline", "version": 1, "timelines": [{"vm": "a", "steps": '
        '[{"start": ' + bad + ', "state": {"power": "running"}}]}]}'
    )
    code, _ = run("bill", str(path))
    err = capsys.readouterr().err
    assert code == 2 and bad in err and "Traceback" not in err
    data = {
        "format": "vmlife.timeline",
        "timelines": [{"vm": "a", "steps": [{"start": float(bad), "state": {}}]}],
    }
    with pytest.raises(InputError) as exc:
        load_timelines(data)
    assert (exc.value.record, exc.value.field) == ("timelines[0].steps[0]", "start")


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"start": "2024-01-01T00:00:00Z", "end": math.inf, "state": {}}, "end"),
        ({"start": True, "state": {}}, "start"),
        ({"start": 1e300, "state": {}}, "start"),
        ({"start": "10000-01-01T00:00:00Z", "state": {}}, "start"),
        ({"start": "2024-01-01T00:00:00Z", "end": "2024-01-01T00:00:01Z", "state": {}}, "end"),
        ({"start": "2024-01-01T00:00:00Z", "state": {"power": 1}}, "state"),
    ],
)
def test_4_load_timelines_validates_every_field(step: dict[str, Any], field: str) -> None:
    data = {"format": "vmlife.timeline", "timelines": [{"vm": "a", "steps": [step]}]}
    with pytest.raises(InputError) as exc:
        load_timelines(data)
    assert exc.value.field == field


# ---------------------------------------------------------------- 5. maths in names
def test_5_names_are_drawn_as_plain_text(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from vmlife.render.billing_plot import plot_timeline

    name = r"x$\frac$y"
    result = read_activity_log(a_log(vm=name), quiet=True)
    fig = Figure()
    ax = plot_timeline(result.timelines, ax=fig.add_subplot(), title=r"cost $\frac$ of " + name)
    FigureCanvasAgg(fig).draw()  # mathtext would raise ParseSyntaxException here
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [r"x\$\frac\$y"]  # escaped dollars: matplotlib shows "x$\frac$y"
    log = tmp_path / "log.json"
    log.write_text(json.dumps(a_log(vm=name)))
    code, _ = run("report", str(log), "-o", str(tmp_path / "r"), "--quiet")
    assert code == 0


# ---------------------------------------------------------------- 6. terminals
def test_6_table_output_survives_lone_surrogates_and_drops_ansi(tmp_path: Path) -> None:
    path = tmp_path / "view.json"
    path.write_text(
        '[{"name": "bad\\ud800name", "statuses": [{"code": "PowerState/running"}]},'
        ' {"name": "\\u001b[31mred\\u001b[0m", "statuses": [{"code": "PowerState/running"}]}]'
    )
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
    assert main(["status", str(path)], out=out) == 0
    out.flush()
    text = raw.getvalue().decode("utf-8")
    assert "\x1b" not in text and "bad\ufffdname" in text and "[31mred" in text
    # the timeline and bill commands print names outside tables too (headers, anomalies)
    events = [
        {"operationName": {"value": "Microsoft.Compute/virtualMachines/start/action"},
         "status": {"value": s}, "eventTimestamp": t, "correlationId": "c",
         "resourceId": RID + "\x1b[2Jx\ud800y", "eventDataId": s}
        for s, t in (("Started", "2024-03-04T08:00:00Z"), ("Succeeded", "2024-03-04T08:01:00Z"))
    ] + [{"operationName": {"value": "Microsoft.Compute/virtualMachines/start/action"},
          "resourceId": RID + "\x1b[31mz", "correlationId": "d", "status": {"value": "Bad"},
          "eventTimestamp": "2024-03-04T08:00:00Z"}]
    log = tmp_path / "log.json"
    log.write_text(json.dumps(events))
    for cmd in ("timeline", "bill"):
        raw = io.BytesIO()
        out = io.TextIOWrapper(raw, encoding="utf-8", errors="strict")
        assert main([cmd, str(log)], out=out) == 0, cmd
        out.flush()
        text = raw.getvalue().decode("utf-8")
        assert "\x1b" not in text and "x\ufffdy" in text, cmd
    ascii_raw = io.BytesIO()
    ascii_out = io.TextIOWrapper(ascii_raw, encoding="ascii", errors="strict")
    assert main(["status", str(path)], out=ascii_out) == 0


# ---------------------------------------------------------------- 7. exact round trip
def test_7_year_one_survives_the_timeline_file(tmp_path: Path) -> None:
    log = tmp_path / "log.json"
    log.write_text(json.dumps(a_log(start="0001-01-01T00:00:00Z")))
    code, text = run("timeline", str(log), "--json")
    assert code == 0
    first = json.loads(text)["timelines"][0]["steps"][0]["start"]
    assert first == "0001-01-01T00:00:00Z"
    tfile = tmp_path / "t.json"
    tfile.write_text(text)
    code, billed = run("bill", str(tfile), "--json")
    assert code == 0 and json.loads(billed)["total_cost"] > 0


def test_7_sub_microsecond_steps_bill_the_same_from_the_file() -> None:
    # Succeeded at 08:08:59.9999980Z: the engine scales the start's phases to fit, so steps
    # start between microseconds; the draft edition at minute granularity differed
    log = [
        event("deallocate/action", "Started", "2024-03-04T07:00:00Z", "c0", 0),
        event("deallocate/action", "Succeeded", "2024-03-04T07:01:00Z", "c0", 1),
        event("start/action", "Started", "2024-03-04T08:00:00Z", "c1", 2),
        event("start/action", "Succeeded", "2024-03-04T08:08:59.9999980Z", "c1", 3),
        event("deallocate/action", "Started", "2024-03-04T10:00:00Z", "c2", 4),
        event("deallocate/action", "Succeeded", "2024-03-04T10:00:30Z", "c2", 5),
    ]
    result = read_activity_log(log, quiet=True)
    again = load_timelines(json.loads(result.to_json()))
    assert again == result.timelines
    for granularity in ("second", "minute", "hour"):
        a = bill(result.timelines, edition="draft", granularity=granularity)
        b = bill(again, edition="draft", granularity=granularity)
        assert a.total_cost == b.total_cost, granularity


# ---------------------------------------------------------------- 9. messages
def test_9_empty_and_utf16_json_price_files_are_not_called_csv(tmp_path: Path) -> None:
    empty = tmp_path / "p.json"
    empty.write_text("")
    with pytest.raises(InputError, match="empty") as err:
        load_prices(empty)
    assert "CSV header" not in str(err.value)
    utf16 = tmp_path / "q.json"
    utf16.write_bytes(json.dumps({"prices": [{"sku": "A", "os": "linux", "compute": 0.1,
                                              "currency": "USD"}]}).encode("utf-16"))
    assert load_prices(utf16).lookup("A").compute == 0.1


def test_9_json_price_records_are_numbered_from_one(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    rows = [{"sku": "A", "os": "linux", "compute": 0.1, "currency": "USD"},
            {"sku": "B", "os": "linux", "compute": -1, "currency": "USD"}]
    path.write_text(json.dumps({"prices": rows}))
    with pytest.raises(InputError) as err:
        load_prices(path)
    assert (err.value.record, err.value.field) == (2, "compute")
    rows[1]["compute"] = "x"
    path.write_text(json.dumps({"prices": rows}))
    with pytest.raises(InputError) as err:
        load_prices(path)
    assert (err.value.record, err.value.field) == (2, "compute")


def test_vmlife_read_statuses_is_exported() -> None:
    assert vmlife.read_statuses([{"code": "PowerState/running"}]).state.power == "running"
