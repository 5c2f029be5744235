"""``vmlife pull`` against the replay writes a folder that ``bill`` and ``report`` read."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vmlife.azure import Connection, pull
from vmlife.cli import main
from vmlife.errors import InputError
from vmlife.io.folder import read_folder

from .replay import FLEET, SUBSCRIPTION, TENANT, TOKEN, Replay, StaticCredential

pytestmark = pytest.mark.azure

REPO = Path(__file__).resolve().parents[2]


def _fake_az(folder: Path, token: str = TOKEN) -> Path:
    """An ``az`` that answers ``az account get-access-token`` as the Azure CLI does, so
    DefaultAzureCredential's AzureCliCredential gets a token without any network."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    answer = {"accessToken": token, "expiresOn": "2099-01-01 00:00:00.000000",
              "expires_on": 4070908800, "subscription": SUBSCRIPTION, "tenant": TENANT,
              "tokenType": "Bearer"}
    az.write_text(f"#!{sys.executable}\nimport json, sys\n"
                  "assert sys.argv[1:5] == ['account', 'get-access-token', '--output', 'json']\n"
                  f"print(json.dumps({answer!r}))\n", encoding="utf-8")
    az.chmod(az.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def _env(tmp_path: Path, *, token: str = TOKEN) -> dict[str, str]:
    """DefaultAzureCredential restricted to the Azure CLI credential (no managed-identity
    probe), a fake ``az``, and a dead proxy for anything that is not loopback."""
    env = dict(os.environ)
    env["PATH"] = f"{_fake_az(tmp_path, token)}{os.pathsep}{env.get('PATH', '')}"
    env["AZURE_TOKEN_CREDENTIALS"] = "AzureCliCredential"
    env["HTTPS_PROXY"] = env["HTTP_PROXY"] = "http://127.0.0.1:9"
    env["NO_PROXY"] = "127.0.0.1,localhost"
    for key in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
                "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
        env.pop(key, None)
    return env


def _pull_args(replay: Replay, out: Path, cache: Path, days: str = "7") -> list[str]:
    return ["pull", "--subscription", SUBSCRIPTION, "--days", days, "-o", str(out),
            "--arm-endpoint", replay.url, "--prices-endpoint", replay.url,
            "--ca-bundle", replay.ca_file, "--price-cache", str(cache)]


def _pulled(replay: Replay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run 'vmlife pull' in-process, credential from the fake az, into tmp_path/pulled."""
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "pulled"
    assert main([*_pull_args(replay, out, tmp_path / "cache"), "--quiet"],
                out=io.StringIO()) == 0
    return out


def test_vmlife_pull_then_vmlife_report_of_the_folder(replay: Replay, tmp_path: Path) -> None:
    """The acceptance test: the installed command, DefaultAzureCredential, the replay."""
    out, cache, rep = tmp_path / "pulled", tmp_path / "cache", tmp_path / "report"
    env = _env(tmp_path)
    vmlife = [sys.executable, "-m", "vmlife"]
    done = subprocess.run([*vmlife, *_pull_args(replay, out, cache)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Next: vmlife report" in done.stdout
    assert {p.name for p in out.iterdir()} == {"activity_log.json", "inventory.json",
                                               "prices", "pull.json"}
    assert {s.headers.get("authorization") for s in replay.seen if s.route != "prices"} == {
        f"Bearer {TOKEN}"}
    manifest = json.loads((out / "pull.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "vmlife.pull" and manifest["subscription"] == SUBSCRIPTION
    assert manifest["inventory"] == {"file": "inventory.json", "vms": 3,
                                     "method": "resource-graph"}
    assert manifest["prices"]["regions"] == ["eastus", "westeurope"]
    assert sum(manifest["requests"].values()) == len(replay.seen)

    done = subprocess.run([*vmlife, "report", str(out), "-o", str(rep)], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Billed 3 VMs" in done.stdout
    page = (rep / "index.html").read_text(encoding="utf-8")
    for vm in FLEET:
        assert vm.name in page
    assert "activity_log.json, inventory.json, 4 price files" in page


def test_bill_of_a_pulled_folder_uses_its_inventory_and_regional_prices(
        replay: Replay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = _pulled(replay, tmp_path, monkeypatch)
    buf = io.StringIO()
    assert main(["bill", str(out), "--json"], out=buf) == 0
    data = json.loads(buf.getvalue())
    vms = {v["vm"]: v for v in data["vms"]}
    # web-1: eastus D2s_v5 Linux, 08:00-18:00 on six days = 60 h at 0.096
    assert vms["web-1"]["cost"]["compute"] == pytest.approx(60 * 0.096)
    # win-2: westeurope D4s_v5 Windows, running then stopped 72 h: 0.214 + licence 0.184
    assert vms["win-2"]["cost"]["compute"] == pytest.approx(72 * 0.214)
    assert vms["win-2"]["cost"]["license"] == pytest.approx(72 * (0.398 - 0.214))
    # the OS disks are priced in their region from the pulled monthly meters (P10 for
    # win-2's 127 GiB disk in westeurope, P4 for web-1's 30 GiB in eastus)
    from vmlife.billing.prices import month_fraction
    from vmlife.timeutil import to_epoch

    pulled = json.loads((out / "pull.json").read_text(encoding="utf-8"))
    months = month_fraction(to_epoch(pulled["start"]), to_epoch(pulled["end"]))
    assert vms["win-2"]["cost"]["other"] == pytest.approx(21.68 * months, rel=1e-3)
    assert vms["web-1"]["cost"]["other"] == pytest.approx(5.28 * months, rel=1e-3)
    assert not any("has no price" in n for n in data["notes"])
    # spot-3: eastus D2s_v5 Spot at 0.0192, running from its creation to the pull
    spot = vms["spot-3"]
    assert (spot["sku"], spot["os"], spot["priority"]) == ("Standard_D2s_v5", "linux", "spot")
    assert spot["cost"]["compute"] == pytest.approx(
        round(spot["billed_hours"]["compute"], 9) * 0.0192, rel=1e-6)
    assert spot["billed_hours"]["compute"] > 24


def test_pull_writes_what_it_says(replay: Replay, tmp_path: Path) -> None:
    conn = Connection(resource_manager=replay.url, prices=replay.url, verify=replay.ca_file,
                      retry_backoff=0.01)
    result = pull(SUBSCRIPTION, days=7, out=tmp_path / "p", credential=StaticCredential(),
                  connection=conn, price_cache=tmp_path / "cache", progress=False)
    folder = read_folder(result.folder)
    assert folder.inventory is not None and len(folder.prices) == 4
    assert sorted(result.files) == sorted(
        ["inventory.json", "activity_log.json", "pull.json",
         *(f"prices/{p.name}" for p in folder.prices)])
    log = json.loads(folder.activity_log.read_text(encoding="utf-8"))
    assert len(log["value"]) == result.events == result.manifest["activity_log"]["events"]
    inv = json.loads(folder.inventory.read_text(encoding="utf-8"))
    assert [vm["name"] for vm in inv["value"]] == [vm.name for vm in FLEET]
    # prices per region: only the sizes and disk tiers of that region's VMs were asked for
    asked = sorted(s.query["$filter"].split(" and ", 2)[2] for s in replay.routes("prices")
                   if "$skip" not in s.query)
    assert asked == [
        "armRegionName eq 'eastus' and armSkuName eq 'Standard_D2s_v5'",
        "armRegionName eq 'eastus' and productName eq 'Premium SSD Managed Disks' and "
        "skuName eq 'P4 LRS'",
        "armRegionName eq 'westeurope' and armSkuName eq 'Standard_D4s_v5'",
        "armRegionName eq 'westeurope' and productName eq 'Premium SSD Managed Disks' and "
        "skuName eq 'P10 LRS'",
    ]
    assert all(s.query["$filter"].startswith(("serviceName eq 'Virtual Machines' and priceType "
                                              "eq 'Consumption'", "serviceName eq 'Storage' "
                                              "and priceType eq 'Consumption'"))
               for s in replay.routes("prices"))
    # a second pull within a day takes the prices from the cache
    again = pull(SUBSCRIPTION, days=7, out=tmp_path / "p", credential=StaticCredential(),
                 connection=conn, price_cache=tmp_path / "cache", progress=False)
    assert again.requests["Retail Prices"] == 0


def test_pull_refuses_a_non_positive_number_of_days(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="days must be positive"):
        pull(SUBSCRIPTION, days=0, out=tmp_path, credential=StaticCredential())


def test_cli_errors_exit_2_with_the_fix(replay: Replay, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    replay.fail("activity", 403)
    assert main([*_pull_args(replay, tmp_path / "p", tmp_path / "c"), "--quiet"],
                out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "vmlife: error: Activity Log (GET" in err
    assert 'az role assignment create' in err and '"Monitoring Reader"' in err


def test_cli_reports_retries_on_stderr(replay: Replay, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    replay.fail("compute", 500)
    replay.graph_enabled = False
    buf = io.StringIO()
    assert main(_pull_args(replay, tmp_path / "p", tmp_path / "c", days="120"), out=buf) == 0
    err = capsys.readouterr().err
    assert "vmlife: Inventory: 500 Internal Server Error; tried again after" in err
    text = buf.getvalue()
    assert "1 retried" in text
    assert "Note: Activity Log: the Activity Log keeps 90 days" in text
    assert "Note: Inventory: Resource Graph failed (400 BadRequest)" in text


def test_a_folder_without_an_activity_log_is_refused(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bill", str(tmp_path)], out=io.StringIO()) == 2
    assert "must hold activity_log.json" in capsys.readouterr().err


def test_pull_help_names_roles_and_retention(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["pull", "--help"])
    text = capsys.readouterr().out
    assert "Monitoring Reader" in text and "90 days" in text


def test_the_module_runs_as_the_command(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "vmlife", "pull", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--subscription" in done.stdout


def test_reconcile_of_a_pulled_folder_finds_the_day_the_log_cannot_explain(
        replay: Replay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime, timezone

    from .replay import focus_costs

    out = _pulled(replay, tmp_path, monkeypatch)
    costs = tmp_path / "costs_focus.csv"
    costs.write_text(focus_costs(SUBSCRIPTION, replay.now), encoding="utf-8")
    buf = io.StringIO()
    assert main(["reconcile", str(out), "--costs", str(costs), "--json"], out=buf) == 0
    rec = json.loads(buf.getvalue())
    three_days_ago = datetime.fromtimestamp(replay.now - replay.now % 86400 - 3 * 86400,
                                            tz=timezone.utc).strftime("%Y-%m-%d")
    differ = [(r["vm"], r["date"], r["difference_hours"]) for r in rec["rows"]
              if abs(r["difference_hours"]) > 0.02]
    assert differ == [("web-1", three_days_ago, pytest.approx(2.0, abs=0.05))]
    assert {r["vm"] for r in rec["rows"]} == {"web-1", "win-2", "spot-3"}
