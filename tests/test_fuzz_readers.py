"""Fuzz every reader with mutated and corrupted bytes, through the Python API and the CLI.

Seeded and deterministic: each reader gets its valid sample mutated ``CASES`` ways (byte flips,
cuts, splices, re-encodings, deep nesting, huge numbers, NaN, lone surrogates, ANSI escapes,
JSON values swapped for others). A case fails on any exception that is not a
:class:`~vmlife.errors.VmlifeError`, any CLI exit status other than 0, 2 or 3, or a traceback
in the CLI's output. Adding a reader is one line in :data:`READERS`.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vmlife.billing.prices import load_prices
from vmlife.cli import main
from vmlife.errors import VmlifeError
from vmlife.io.activity_log import read_activity_log
from vmlife.io.costs import read_costs
from vmlife.io.history import read_input
from vmlife.io.instance_view import read_instance_views_file
from vmlife.io.snapshots import read_snapshots
from vmlife.timeline import load_timelines

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SEED = 14
#: Mutations per reader through the API; a third as many again through the in-process CLI.
CASES = 240

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/web-1"


def _events() -> bytes:
    events = []
    for i, (op, status, t) in enumerate([
        ("start/action", "Started", "2024-03-04T08:00:00.1234567Z"),
        ("start/action", "Succeeded", "2024-03-04T08:01:00Z"),
        ("deallocate/action", "Started", "2024-03-04T18:00:00Z"),
        ("deallocate/action", "Failed", "2024-03-04T18:01:00Z"),
    ]):
        events.append({
            "operationName": {"value": f"Microsoft.Compute/virtualMachines/{op}"},
            "status": {"value": status}, "eventTimestamp": t, "correlationId": f"c{i // 2}",
            "resourceId": RID, "eventDataId": f"e{i}",
            "properties": {"statusCode": "Conflict"},
        })
    return json.dumps({"value": events}, indent=1).encode()


def _export() -> bytes:
    return (ROOT / "vmlife" / "data" / "sample_activity_log_export.jsonl").read_bytes()[:6000]


def _snapshots() -> bytes:
    polls = [
        {"time": f"2024-03-04T{h:02d}:00:00Z", "vm": "web-1",
         "statuses": [{"code": "ProvisioningState/succeeded"},
                      {"code": f"PowerState/{'running' if h % 3 else 'deallocated'}"}]}
        for h in range(8, 14)
    ]
    return "\n".join(json.dumps(p) for p in polls).encode()


def _timelines() -> bytes:
    result = read_activity_log(json.loads(_events()), quiet=True)
    return result.to_json().encode()


def _prices_json() -> bytes:
    return json.dumps({"currency": "USD", "prices": [
        {"sku": "Standard_D2s_v5", "os": "linux", "compute": 0.096},
        {"sku": "Standard_D2s_v5", "os": "windows", "compute": 0.096, "license": 0.092},
    ]}).encode()


PRICES_CSV = (b"sku,os,compute,license,other,currency,priority\n"
              b"Standard_D2s_v5,linux,0.096,0,0,USD,regular\n"
              b"Standard_D2s_v5,windows,0.096,0.092,0,USD,spot\n")


@dataclass(frozen=True)
class Reader:
    """One reader under fuzz: a valid sample, a file suffix, the API call, the CLI args."""

    name: str
    sample: Callable[[], bytes]
    suffix: str
    api: Callable[[Path], Any]
    cli: tuple[str, ...]  # "{file}" is replaced by the input's path, "{log}" by a valid log


def _inventory_reader() -> list[Reader]:
    """The inventory reader, once vmlife.io.inventory (issue 11) has landed."""
    try:
        inventory = importlib.import_module("vmlife.io.inventory")
    except ImportError:
        return []
    sample = {"value": [{
        "id": RID, "name": "web-1", "location": "eastus",
        "properties": {"hardwareProfile": {"vmSize": "Standard_D2s_v5"},
                       "storageProfile": {"osDisk": {"osType": "Linux"}}},
    }]}
    return [Reader("inventory", lambda: json.dumps(sample).encode(), ".json",
                   inventory.read_inventory, ("bill", "{log}", "--inventory", "{file}")),
            Reader("inventory-az", lambda: (DATA / "inventory" / "az_vm_list_d.json").read_bytes(),
                   ".json", inventory.read_inventory,
                   ("timeline", "{log}", "--inventory", "{file}"))]


READERS: list[Reader] = [
    Reader("instance-view", lambda: (DATA / "rest_instance_view.json").read_bytes(), ".json",
           read_instance_views_file, ("status", "{file}")),
    Reader("az-vm-list", lambda: (DATA / "az_vm_list_d.json").read_bytes(), ".json",
           read_instance_views_file, ("status", "{file}", "--json")),
    Reader("prices-csv", lambda: PRICES_CSV, ".csv", load_prices,
           ("bill", "{log}", "--prices", "{file}")),
    Reader("prices-json", _prices_json, ".json", load_prices,
           ("bill", "{log}", "--prices", "{file}", "--json")),
    Reader("timeline-file", _timelines, ".json", load_timelines, ("bill", "{file}")),
    Reader("timeline-input", _timelines, ".json", lambda p: read_input(str(p), quiet=True),
           ("bill", "{file}", "--json", "--granularity", "second")),
    Reader("activity-log", _events, ".json", lambda p: read_activity_log(p, quiet=True),
           ("timeline", "{file}")),
    Reader("activity-export", _export, ".jsonl", lambda p: read_activity_log(p, quiet=True),
           ("bill", "{file}")),
    Reader("snapshots", _snapshots, ".jsonl", lambda p: read_snapshots(p, quiet=True),
           ("timeline", "{file}", "--format", "snapshots", "--json")),
    Reader("azureactivity-json", lambda: (DATA / "azureactivity_query.json").read_bytes(),
           ".json", lambda p: read_activity_log(p, quiet=True), ("bill", "{file}")),
    Reader("azureactivity-csv", lambda: (DATA / "azureactivity_portal.csv").read_bytes(),
           ".csv", lambda p: read_activity_log(p, quiet=True), ("timeline", "{file}")),
    Reader("costs-ea", lambda: (DATA / "reconcile" / "costs_ea.csv").read_bytes(), ".csv",
           read_costs, ("reconcile", "{log}", "--costs", "{file}", "--json")),
    Reader("costs-focus", lambda: (DATA / "reconcile" / "costs_focus.csv").read_bytes(),
           ".csv", read_costs, ("reconcile", "{log}", "--costs", "{file}")),
    *_inventory_reader(),
]


# ---------------------------------------------------------------------- mutations
def _json_swap(data: bytes, rng: random.Random) -> bytes:
    """Parse, replace one value anywhere with a hostile one, write back."""
    try:
        doc = json.loads(data)
    except ValueError:
        return data
    hostile: list[Any] = [None, True, 0, -1, 1e308, "", "x" * 300, [], {}, [[]], "NaN",
                          "\ud800", "\x1b[31mred", "x$\\frac$y", "0001-01-01T00:00:00Z",
                          "9999-12-31T23:59:59.9999999Z", 10**40, -0.0, {"value": None}]
    nodes: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k in list(node):
                nodes.append((node, k))
                walk(node[k])
        elif isinstance(node, list):
            for i in range(len(node)):
                nodes.append((node, i))
                walk(node[i])

    walk(doc)
    if not nodes:
        return data
    for _ in range(rng.randint(1, 3)):
        parent, key = rng.choice(nodes)
        try:
            parent[key] = rng.choice(hostile)
        except (IndexError, KeyError, TypeError):
            pass
    text = json.dumps(doc, allow_nan=True)
    return text.encode("utf-8", errors="surrogatepass")


def mutate(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(14)
    n = len(data)
    if kind == 0:  # flip bytes
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(n)] = rng.randrange(256)
        return bytes(b)
    if kind == 1:  # cut
        return data[: rng.randrange(n + 1)]
    if kind == 2:  # splice a random slice somewhere else
        i, j = sorted(rng.randrange(n + 1) for _ in range(2))
        k = rng.randrange(n + 1)
        return data[:k] + data[i:j] + data[k:]
    if kind == 3:  # re-encode
        enc = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig", "latin-1"])
        try:
            return data.decode("utf-8").encode(enc)
        except (UnicodeDecodeError, UnicodeEncodeError):
            return data
    if kind == 4:  # deep nesting
        depth = rng.choice([300, 5000, 100_000])
        return rng.choice([b"[" * depth, b'{"a":' * depth + b"1" + b"}" * depth,
                           data[: n // 2] + b"[" * depth])
    if kind == 5:  # huge numbers
        digits = rng.choice([400, 4301, 50_000])
        return rng.choice([
            b"[" + b"9" * digits + b"]",
            data.replace(b"0.", b"9" * digits + b".", 1),
            data.replace(b'"2024', b"1" + b"0" * digits + b',"2024', 1),
        ])
    if kind == 6:  # NaN and friends
        return data.replace(b'"', b"NaN,", 1) if rng.random() < 0.3 else data.replace(
            b"0", rng.choice([b"NaN", b"Infinity", b"-Infinity", b"1e999"]), 1)
    if kind == 7:  # random garbage
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
    if kind == 8:  # insert NULs / control characters
        b = bytearray(data)
        for _ in range(rng.randint(1, 5)):
            b.insert(rng.randrange(len(b) + 1), rng.choice([0, 27, 13, 0xFF, 0xC3]))
        return bytes(b)
    if kind == 9:  # a huge field / line
        return data.replace(b"web-1", b"w" * rng.choice([140_000, 70_000]), 1)
    if kind == 10:  # truncate in the middle of a multi-byte character
        return data + "é€😀".encode()[: rng.randint(1, 6)]
    if kind == 11:  # empty or blank
        return rng.choice([b"", b"\n\n", b"\xef\xbb\xbf", b"\xff\xfe", b"{}", b"[]", b"null"])
    return _json_swap(data, rng)  # 12, 13: structural


# ---------------------------------------------------------------------- running
def _cli(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(args, out=out)
    return code, out.getvalue() + err.getvalue()


def _args(reader: Reader, path: Path, log: Path) -> list[str]:
    return [a.replace("{file}", str(path)).replace("{log}", str(log)) for a in reader.cli]


@pytest.mark.parametrize("reader", READERS, ids=[r.name for r in READERS])
def test_fuzz(reader: Reader, tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}-{reader.name}")
    sample = reader.sample()
    log = tmp_path / "log.json"
    log.write_bytes(_events())
    reader.api(_write(tmp_path, reader, sample))  # the sample itself reads
    failures: list[str] = []
    for case in range(CASES + CASES // 3):
        data = mutate(sample, rng)
        path = _write(tmp_path, reader, data)
        via_cli = case >= CASES
        if via_cli and not reader.cli:
            continue
        try:
            if via_cli:
                code, text = _cli(_args(reader, path, log))
                if code not in (0, 2, 3) or "Traceback" in text:
                    failures.append(f"case {case}: exit {code}: {text[-300:]!r}")
            else:
                reader.api(path)
        except VmlifeError:
            pass
        except Exception as exc:  # the point of the test: nothing else may escape
            failures.append(f"case {case} ({'cli' if via_cli else 'api'}): "
                            f"{type(exc).__name__}: {str(exc)[:200]} input={data[:80]!r}")
        if len(failures) >= 5:
            break
    assert not failures, "\n".join(failures)


def _write(tmp_path: Path, reader: Reader, data: bytes) -> Path:
    path = tmp_path / f"input{reader.suffix}"
    path.write_bytes(data)
    return path


def test_fuzz_real_processes(tmp_path: Path) -> None:
    """A handful of runs of the installed command, for what in-process runs cannot show."""
    rng = random.Random(SEED)
    log = tmp_path / "log.json"
    log.write_bytes(_events())
    for reader in [r for r in READERS if r.cli][:6]:
        data = mutate(reader.sample(), rng)
        path = _write(tmp_path, reader, data)
        proc = subprocess.run(
            [sys.executable, "-m", "vmlife", *_args(reader, path, log)],
            capture_output=True, timeout=120, cwd=tmp_path,
        )
        assert proc.returncode in (0, 2, 3), (reader.name, proc.stderr[-500:])
        assert b"Traceback" not in proc.stdout + proc.stderr, (reader.name, proc.stderr[-500:])
