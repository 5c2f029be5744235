"""Widgets: thin shells over the core, with static fallbacks and a clear missing-extra error."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import vmlife
from vmlife.billing.meter import bill
from vmlife.widgets import BillingTimeline


def timelines() -> list[vmlife.Timeline]:
    a = vmlife.VM("a", start="2024-01-01T00:00:00Z", state="running", os="windows")
    a.deallocate(at="2024-01-02T18:00:00Z")
    b = vmlife.VM("b", start="2024-01-01T00:00:00Z", state="stopped")
    b.start(at="2024-01-03T00:00:00Z")
    return [a.timeline, b.timeline]


def test_billing_timeline_controls_drive_the_bill() -> None:
    tls = timelines()
    bt = BillingTimeline(tls)
    lo, hi = bt.period.value
    assert bt.bill.to_dict() == bill(tls, start=lo, end=hi).to_dict()
    first_png = bytes(bt.plot.value)
    assert first_png.startswith(b"\x89PNG")
    bt.edition_picker.value = "2018-08"  # Stopped not billed: b's first two days are free
    assert bt.bill.edition.id == "2018-08"
    assert bt.bill.vm("b").billed_seconds["compute"] < bill(tls, start=lo, end=hi).vm(
        "b").billed_seconds["compute"]
    assert "Edition 2018-08" in bt.totals.value
    assert bytes(bt.plot.value) != first_png
    bt.granularity_picker.value = "hour"
    assert bt.bill.granularity == "hour"
    bt.price_picker.value = "Standard_D4s_v5 / windows / regular / eastus"
    assert bt.bill.vm("b").price.sku == "Standard_D4s_v5"
    bt.period.index = (1, len(bt.period.options) - 1)
    assert bt.bill.start == bt.period.value[0]


def test_static_representation_for_headless_notebooks() -> None:
    bundle = BillingTimeline(timelines())._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].startswith('<table class="vmlife-bill">')
    assert bundle["text/plain"] == "BillingTimeline(2 VMs, edition=2023-10, per minute)"
    assert bundle["image/png"]


def test_missing_extra_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "try:\n    import vmlife.widgets\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert 'pip install "vmlife[notebook]"' in out


def test_empty_source_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one timeline"):
        BillingTimeline([])


def test_lifecycle_explorer_buttons_follow_the_rules() -> None:
    from vmlife.widgets import LifecycleExplorer

    e = LifecycleExplorer()
    enabled = [op for op, b in e.buttons.items() if not b.disabled]
    assert enabled == ["create"]
    assert e.buttons["start"].tooltip == "there is no VM (create it first)"
    e.buttons["create"].click()
    assert e.vm.state.power == "running"
    assert e.buttons["start"].disabled
    assert e.buttons["start"].tooltip == (
        "start is allowed only from power state deallocated, stopped")
    assert not e.buttons["deallocate"].disabled
    assert "running" in e.state_label.value
    assert '"PowerState/running"' in e.statuses.value
    assert "vmlife-bill" in e.bill_view.value
    e.buttons["deallocate"].click()
    assert e.vm.state.power == "deallocated"
    assert 'stroke-width="3"' in e.diagram.value


def test_lifecycle_explorer_shows_refusals_and_resets() -> None:
    from vmlife.widgets import LifecycleExplorer

    e = LifecycleExplorer()
    e.run("restart")  # refused: no VM; shown, not raised
    assert "Can&#x27;t restart" in e.message.value
    e.run("create")
    e.wait_hours.value = 5
    e.run("power_off")
    assert e.vm.clock - e.vm.timeline.last_change == 5 * 3600
    e.reset()
    assert not e.vm.state.exists and e.message.value == ""
    bundle = e._repr_mimebundle_()
    assert bundle["text/plain"] == "LifecycleExplorer('explorer': no VM)"
    assert "Allowed now: create" in bundle["text/html"]


def test_lifecycle_explorer_shows_a_plugins_operations() -> None:
    from typing import Any

    from vmlife.widgets import LifecycleExplorer

    class Ping:
        @vmlife.hookimpl
        def register_operations(self, register: Any) -> None:
            register(vmlife.Operation("ping", (vmlife.Phase({}, key="ping"),),
                                      sources=frozenset({"running"}), provisioning=None,
                                      final={}))

    with vmlife.registered(Ping()):
        e = LifecycleExplorer()
        assert "ping" in e.buttons and e.buttons["ping"].disabled
        e.run("create")
        assert not e.buttons["ping"].disabled
