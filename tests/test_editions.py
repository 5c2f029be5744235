"""Billing editions: the built-in revisions, their differences, and plugins adding rules."""

from __future__ import annotations

from typing import Any

import pytest

import vmlife
from vmlife.billing import BillingRules, Edition, Rule, diff_editions

BOTH = frozenset({"compute", "license"})
HW = frozenset({"compute"})
NONE: frozenset[str] = frozenset()

# DESIGN.md's table, read per the module docstring of vmlife.default_plugins.editions
EXPECTED = {
    "draft": {"starting": NONE, "running": BOTH, "stopping": BOTH, "stopped": HW,
              "deallocating": HW, "deallocated": NONE},
    "lifecycle": {"starting": NONE, "running": BOTH, "stopping": BOTH, "stopped": HW,
                  "deallocating": NONE, "deallocated": NONE},
    "2018-08": {"starting": NONE, "running": BOTH, "stopping": BOTH, "stopped": NONE,
                "deallocating": NONE, "deallocated": NONE},
    "2021-03": {"starting": BOTH, "running": BOTH, "stopping": BOTH, "stopped": BOTH,
                "deallocating": NONE, "deallocated": NONE},
    "2023-10": {"creating": NONE, "starting": BOTH, "running": BOTH, "stopping": BOTH,
                "stopped": BOTH, "deallocating": NONE, "deallocated": NONE},
}


@pytest.mark.parametrize("edition_id", list(EXPECTED))
def test_builtin_editions_match_the_documents(edition_id: str) -> None:
    ed = vmlife.lifecycle().edition(edition_id)
    assert {k.split(".")[1]: r.bills for k, r in ed.rules.items()} == EXPECTED[edition_id]
    assert ed.source and ed.date and ed.title


def test_newest_edition_is_the_default() -> None:
    assert vmlife.lifecycle().edition().id == "2023-10"


def test_wording_and_footnotes_are_kept() -> None:
    lc = vmlife.lifecycle()
    assert lc.edition("draft").rule_for("power.stopped").wording == "Billed (Hardware only)"
    stopped = lc.edition("lifecycle").rule_for("power.stopped")
    assert stopped.wording == "Billed*" and "Software licenses" in stopped.note
    assert lc.edition("2023-10").source.endswith("003_563d7b8f50dc6bf6.txt")


def test_diff_2023_against_the_earliest_draft() -> None:
    lc = vmlife.lifecycle()
    assert diff_editions(lc.edition("2023-10"), lc.edition("draft")) == [
        "power.creating", "power.deallocating", "power.starting", "power.stopped",
    ]


def test_unknown_edition_lists_the_choices() -> None:
    choices = "2018-08, 2021-03, 2023-10, draft, lifecycle"
    with pytest.raises(vmlife.UnknownNameError, match=choices):
        vmlife.lifecycle().edition("2099")


def test_a_rule_cannot_bill_other() -> None:
    with pytest.raises(ValueError, match="'other' bills whenever the VM exists"):
        Rule(frozenset({"other"}), "x")


class Sleepy:
    @vmlife.hookimpl
    def register_states(self, register: Any) -> None:
        register(vmlife.Axis("sleep", "SleepState"))
        register(vmlife.State("asleep", "sleep", "SleepState/Asleep", "VM asleep"))

    @vmlife.hookimpl
    def register_editions(self, register: Any) -> None:
        register(BillingRules({"sleep.asleep": Rule(NONE, "Not billed")}, mode="override"))


def test_hook_register_editions_adds_rules_to_every_edition() -> None:
    with vmlife.registered(Sleepy(), name="sleepy"):
        lc = vmlife.lifecycle()
        for ed in lc.editions.values():
            assert ed.rule_for("sleep.asleep").wording == "Not billed"
    assert "sleep.asleep" not in vmlife.lifecycle().edition().rules


def test_hook_register_editions_conflicts_and_bad_keys() -> None:
    class Dup:
        @vmlife.hookimpl
        def register_editions(self, register: Any) -> None:
            register(Edition("draft", "x", "x", "x", {}))

    class BadKey:
        @vmlife.hookimpl
        def register_editions(self, register: Any) -> None:
            register(BillingRules({"power.sleeping": Rule(NONE, "x")}))

    class Override:
        @vmlife.hookimpl
        def register_editions(self, register: Any) -> None:
            register(BillingRules({"power.running": Rule(NONE, "free")}, editions=("draft",)))

    with vmlife.registered(Dup(), name="dup"), pytest.raises(vmlife.ConflictError, match="'dup'"):
        vmlife.lifecycle()
    with vmlife.registered(BadKey(), name="bad"):
        with pytest.raises(vmlife.DefinitionError, match=r"'power\.sleeping'"):
            vmlife.lifecycle()
    with vmlife.registered(Override(), name="ovr"):
        with pytest.raises(vmlife.ConflictError, match=r"power\.running"):
            vmlife.lifecycle()
