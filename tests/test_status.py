"""Status codes: every code and displayStatus in the three spec revisions, and the grammar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import vmlife
from vmlife.status import parse_code, parse_display, read_statuses, statuses_for

from .spec_texts import SPEC_DIR, extract

DATA = Path(__file__).parent / "data"
SPEC_TEXTS = json.loads((DATA / "spec_status_texts.json").read_text())
CODES = [r for r in SPEC_TEXTS if r["kind"] == "code"]
DISPLAYS = [r for r in SPEC_TEXTS if r["kind"] == "displayStatus"]


@pytest.mark.skipif(not SPEC_DIR.is_dir(), reason="shared/spec is not beside this clone")
def test_committed_spec_texts_match_the_spec_documents() -> None:
    assert extract() == SPEC_TEXTS


def test_every_spec_revision_contributes_codes() -> None:
    assert {r["spec"][:3] for r in CODES} == {"000", "001", "003"}


@pytest.mark.parametrize("row", CODES, ids=lambda r: f"{r['spec'][:3]}:{r['text']}")
def test_every_spec_code_parses(row: dict[str, str]) -> None:
    parsed = parse_code(row["text"])
    assert parsed.known, row
    # the canonical form parses to the same states again
    again = parse_code(parsed.canonical or "")
    assert again.states == parsed.states and again.detail == parsed.detail


@pytest.mark.parametrize("row", DISPLAYS, ids=lambda r: f"{r['spec'][:3]}:{r['text']}")
def test_every_spec_display_status_names_a_state(row: dict[str, str]) -> None:
    lc = vmlife.lifecycle()
    assert any(s.display == row["text"] for s in lc.states.values()), row


@pytest.mark.parametrize(
    ("code", "keys", "detail", "canonical"),
    [
        ("PowerState/deallocated", ["power.deallocated"], None, "PowerState/deallocated"),
        ("powerstate/DEALLOCATED", ["power.deallocated"], None, "PowerState/deallocated"),
        (" PowerState / running ", ["power.running"], None, "PowerState/running"),
        (
            "ProvisioningState/failed/InternalOperationError",
            ["provisioning.failed"],
            "InternalOperationError",
            "ProvisioningState/failed/InternalOperationError",
        ),
        (
            "ProvisioningState/failed/OSProvisioningTimedOut",
            ["provisioning.failed"],
            "OSProvisioningTimedOut",
            "ProvisioningState/failed/OSProvisioningTimedOut",
        ),
        (
            "ProvisioningState/creating/osProvisioningComplete",
            ["provisioning.creating", "os_provisioning.complete"],
            None,
            "ProvisioningState/creating/OSProvisioningComplete",
        ),
        (
            "ProvisioningState/creating/OSProvisioningInprogress",
            ["provisioning.creating", "os_provisioning.in_progress"],
            None,
            "ProvisioningState/creating/OSProvisioningInProgress",
        ),
        (
            "ProvisioningState/ OSProvisioningInprogress",
            ["provisioning.creating", "os_provisioning.in_progress"],
            None,
            "ProvisioningState/creating/OSProvisioningInProgress",
        ),
    ],
)
def test_parse_is_tolerant_and_formats_canonically(
    code: str, keys: list[str], detail: str | None, canonical: str
) -> None:
    parsed = parse_code(code)
    assert [s.key for s in parsed.states] == keys
    assert parsed.detail == detail
    assert parsed.canonical == canonical


@pytest.mark.parametrize(
    "code",
    [
        "HibernationState/Hibernated",
        "PatchModeConfigurationState/Ready",
        "PowerState/levitating",
        "ProvisioningState/creating/Something",
        "ProvisioningState/succeeded/extra",
        "PowerState",
        "",
        "///",
    ],
)
def test_unknown_codes_are_reported_not_raised(code: str) -> None:
    parsed = parse_code(code)
    assert not parsed.known and parsed.canonical is None
    reading = read_statuses([{"code": code}, {"code": "PowerState/running"}])
    assert reading.unknown_codes == [code]
    assert reading.state.power == "running"


def test_non_text_codes_are_unknown() -> None:
    reading = read_statuses([{"code": 7}, "junk", {"level": "Info"}])
    assert len(reading.unknown_codes) == 3 and not reading.state.exists


def _all_states() -> list[vmlife.State]:
    return list(vmlife.lifecycle().states.values())


@given(st.sampled_from(_all_states()), st.sampled_from([None, "InternalOperationError", "X1"]))
def test_parse_of_format_is_identity_for_every_state(
    state: vmlife.State, detail: str | None
) -> None:
    code = vmlife.format_code(state, detail)
    parsed = parse_code(code)
    assert parsed.states[-1] == state
    assert parsed.detail == (detail if state.detail else None)


@given(
    st.sampled_from(_all_states()),
    st.lists(st.sampled_from(["upper", "lower", "space"]), max_size=3),
)
def test_case_and_space_variants_parse_the_same(state: vmlife.State, tweaks: list[str]) -> None:
    code = state.code
    for t in tweaks:
        code = {"upper": code.upper(), "lower": code.lower(), "space": code.replace("/", " / ")}[t]
    assert parse_code(code).states[-1] == state


def test_parse_display_reads_az_power_state_text() -> None:
    st_ = parse_display("VM deallocated")
    assert st_ is not None and st_.key == "power.deallocated"
    assert parse_display("vm  RUNNING") is not None
    assert parse_display("Hibernated (deallocated)") is None


def test_statuses_for_matches_azure_shapes() -> None:
    state = vmlife.VMState(
        provisioning="failed", power="running", error_code="OSProvisioningTimedOut"
    )
    assert statuses_for(state) == [
        {
            "code": "ProvisioningState/failed/OSProvisioningTimedOut",
            "level": "Error",
            "displayStatus": "Provisioning failed",
        },
        {"code": "PowerState/running", "level": "Info", "displayStatus": "VM running"},
    ]
    os_state = vmlife.VMState(provisioning="creating", power="running", os_provisioning="complete")
    assert [s["code"] for s in statuses_for(os_state)] == [
        "ProvisioningState/creating/OSProvisioningComplete",
        "PowerState/running",
    ]


@given(st.sampled_from(_all_states()))
def test_statuses_for_reads_back_to_the_same_state(state: vmlife.State) -> None:
    lc = vmlife.lifecycle()
    axes = {state.axis: state.id}
    axis = lc.axes[state.axis]
    if axis.parent:
        axes[axis.parent[0]] = axis.parent[1]
    vs = vmlife.VMState(axes, error_code="E1" if state.detail else None)
    assert read_statuses(statuses_for(vs)).state == vs
