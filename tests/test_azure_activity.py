"""Log Analytics AzureActivity rows (JSON from az, the portal's CSV), Parquet events, and
inputs of which nothing can be used (exit status 2)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from vmlife.cli import main
from vmlife.errors import InputError
from vmlife.io.activity_log import read_activity_log

DATA = Path(__file__).parent / "data"
QUERY = DATA / "azureactivity_query.json"
PORTAL = DATA / "azureactivity_portal.csv"


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def steps(result: Any) -> list[tuple[float, str | None]]:
    return [(s.start, s.state.power) for s in result.timeline("web-1")]


def test_az_monitor_log_analytics_query_rows_replay() -> None:
    result = read_activity_log(QUERY, quiet=True)
    assert result.format == "azureactivity"
    assert result.counts.as_dict() == {
        "read": 6, "used": 6, "duplicates": 0, "anomalies": 0, "ignored": 0,
        "guard_noted": 0}
    [tl] = result.timelines
    assert tl.vm == "Web-1"  # the real spelling, from Properties.entity
    powers = [s.state.power for s in tl]
    assert powers[-3:] == ["running", "deallocating", "deallocated"]
    # the 7-digit times of Log Analytics are read as the REST shape's are
    assert steps(result)[-1][0] == pytest.approx(1709575320.0)


def test_the_portal_csv_export_reads_the_same() -> None:
    csv_result = read_activity_log(PORTAL, quiet=True)
    json_result = read_activity_log(QUERY, quiet=True)
    assert csv_result.counts.as_dict() == json_result.counts.as_dict()
    # the portal writes milliseconds: equal to the millisecond
    for a, b in zip(steps(csv_result), steps(json_result), strict=True):
        assert a[1] == b[1] and abs(a[0] - b[0]) < 1e-3


def test_bill_reads_both_from_the_cli() -> None:
    for path in (QUERY, PORTAL):
        code, text = run("bill", str(path), "--json", "--granularity", "second")
        assert code == 0, path
        assert json.loads(text)["total_cost"] > 0


def test_broken_properties_text_is_an_anomaly_naming_the_field() -> None:
    rows = json.loads(QUERY.read_text())
    rows[0]["Properties"] = "{not json"
    result = read_activity_log(rows, quiet=True)
    assert result.anomalies[0].field == "Properties"
    assert result.counts.reconciles


def test_a_csv_row_with_a_huge_field_is_one_anomaly(tmp_path: Path) -> None:
    lines = PORTAL.read_text(encoding="utf-8-sig").splitlines()
    lines.insert(2, '"' + "x" * 200_000 + '",A,B')
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")
    result = read_activity_log(path, quiet=True)
    assert result.counts.reconciles and result.counts.used == 6
    assert "longer than" in result.anomalies[0].reason


def test_nothing_usable_is_said_and_exits_2(tmp_path: Path, capsys: Any) -> None:
    # before: every AzureActivity row was an anomaly ("operationName missing") and bill printed
    # an empty bill with exit status 0; now rows of an unknown shape still say so, with 2
    rows = [{"TimeGenerated": "2024-03-04T08:00:00Z", "Foo": "bar"}] * 3
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))
    for cmd in ("bill", "timeline", "report"):
        args = [cmd, str(path)] + (["-o", str(tmp_path / "r")] if cmd == "report" else [])
        code, _ = run(*args)
        err = capsys.readouterr().err
        assert code == 2, cmd
        assert "no record could be used: 3 read, 3 in anomalies" in err, cmd
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    code, _ = run("bill", str(empty))
    assert code == 2 and "no records" in capsys.readouterr().err


def test_parquet_events_bill_like_their_json(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    from vmlife.billing.fleet import bill_events

    events = json.loads((Path(__file__).parents[1] / "vmlife" / "data"
                         / "sample_activity_log.json").read_text())
    records = events["value"] if isinstance(events, dict) else events
    path = tmp_path / "events.parquet"
    pd.json_normalize(records).to_parquet(path)
    from_json = bill_events(records, granularity="second")
    from_parquet = bill_events(path, granularity="second")
    assert from_parquet["cost"].sum() == pytest.approx(from_json["cost"].sum())
    assert from_parquet["cost"].sum() > 0
    code, text = run("bill", str(path), "--json", "--granularity", "second")
    assert code == 0
    assert json.loads(text)["total_cost"] == pytest.approx(from_json["cost"].sum())


def test_a_broken_parquet_file_is_an_input_error(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "events.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 100 + b"PAR1")
    with pytest.raises(InputError, match="Parquet"):
        read_activity_log(path, quiet=True)
