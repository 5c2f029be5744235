"""Diagrams: exact DOT and Mermaid text, pictures, escaping, engines, CLI, rich display."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

import vmlife
import vmlife.render.engine as engine_mod
from vmlife.cli import main
from vmlife.render import EngineNotFound, diagram, find_engine
from vmlife.render.palette import INK, style

GOLDEN = Path(__file__).parent / "data" / "render"
ENGINE = find_engine()
needs_engine = pytest.mark.skipif(ENGINE is None, reason="no Graphviz engine installed")


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


@pytest.mark.parametrize("edition", ["2023-10", "draft"])
def test_power_axis_dot_and_mermaid_exactly(edition: str) -> None:
    d = diagram(vmlife.lifecycle(), "power", edition=edition)
    assert d.dot() == (GOLDEN / f"power_{edition}.dot").read_text()
    assert d.mermaid() == (GOLDEN / f"power_{edition}.mmd").read_text()


def test_text_output_is_deterministic() -> None:
    a = diagram(vmlife.lifecycle(), "lifecycle", edition="2021-03")
    vmlife.plugins.reset()
    b = diagram(vmlife.lifecycle(), "lifecycle", edition="2021-03")
    assert a.dot() == b.dot() and a.mermaid() == b.mermaid()


def test_colours_follow_the_edition_and_the_diff_marks_changes() -> None:
    draft = diagram(vmlife.lifecycle(), "power", edition="draft").dot()
    hardware_only = style("hardware only")
    assert re.search(rf"s_power__stopped \[[^]]*fillcolor=\"{hardware_only.colour}\"", draft)
    diff = diagram(vmlife.lifecycle(), "power", diff=("draft", "2023-10")).dot()
    changed = set(re.findall(rf"(s_power__\w+) \[[^]]*color=\"{INK['changed']}\"", diff))
    assert changed == {"s_power__creating", "s_power__starting", "s_power__stopped",
                       "s_power__deallocating"}


def test_highlight_follows_a_vm() -> None:
    vm = vmlife.VM("a").create().deallocate()
    dot = diagram(vm, "power").dot()
    assert re.findall(r"(s_power__\w+) \[[^]]*peripheries=2", dot) == ["s_power__deallocated"]


class Hostile:
    """Names that try to break out of DOT, Mermaid, SVG and HTML."""

    STATE = 'x"];evil[label="<b>pwn</b>'
    DISPLAY = '<script>alert(1)</script> & "quotes"\nnew line -->'

    @vmlife.hookimpl
    def register_states(self, register: Any) -> None:
        register(vmlife.State(self.STATE, "power", "PowerState/hostile", self.DISPLAY))

    @vmlife.hookimpl
    def register_operations(self, register: Any) -> None:
        register(vmlife.Operation(
            'op"<img src=x onerror=alert(1)>\n%%{init}%%',
            (vmlife.Phase({"power": "stopping"}),),
            sources=frozenset({"running"}),
            final={"provisioning": "succeeded", "power": self.STATE},
        ))


def test_hostile_names_cannot_break_dot_or_mermaid() -> None:
    with vmlife.registered(Hostile(), name="hostile"):
        d = diagram(vmlife.lifecycle(), "power")
        dot, mmd = d.dot(), d.mermaid()
    lines = dot.splitlines()
    # node ids are sanitised: the hostile state is one node, and no node "evil" appeared
    node_ids = [m.group(1) for ln in lines if (m := re.match(r"\s+(\w+) \[", ln))]
    assert "s_power__x_evil_label_b_pwn_b" in node_ids and "evil" not in node_ids
    # every statement still ends its own line: no quote or newline split the graph
    assert all(ln.rstrip().endswith((";", "{", "}")) for ln in lines), dot
    # labels are HTML-escaped inside DOT's <...> labels
    assert "x&quot;];evil[label=&quot;&lt;b&gt;pwn&lt;/b&gt;" in dot
    assert "op&quot;&lt;img src=x onerror=alert(1)&gt;" in dot
    for ln in mmd.splitlines():
        if ln.strip().startswith("state \""):
            assert re.fullmatch(r'\s*state "[^"]*" as \w+( \{)?', ln), ln
    assert "<script>" not in mmd and "<img" not in mmd and "%%{init}%%" not in mmd


@needs_engine
def test_hostile_names_cannot_break_svg_or_html(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    with vmlife.registered(Hostile()):
        svg = diagram(vmlife.lifecycle(), "power").svg()
        vm = vmlife.VM("<b>v</b>").create().do('op"<img src=x onerror=alert(1)>\n%%{init}%%')
        html = vm._repr_html_()
        table = vm.timeline._repr_html_()
    ET.fromstring(svg.encode())  # still well-formed XML
    assert "<script>" not in svg and "<img" not in svg
    for text in (html, table):
        assert "<script>" not in text and "<img" not in text and "<b>v</b>" not in text


@needs_engine
@pytest.mark.parametrize(("fmt", "magic"), [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_svg_and_png_render(fmt: str, magic: bytes, tmp_path: Path) -> None:
    data = diagram(vmlife.lifecycle(), "lifecycle").render(fmt)
    assert data.startswith(magic) and len(data) > 2000
    code, _ = run_cli("diagram", "power", "-o", str(tmp_path / f"p.{fmt}"))
    assert code == 0 and (tmp_path / f"p.{fmt}").read_bytes().startswith(magic)


def test_no_engine_keeps_text_and_explains_pictures(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(engine_mod, "_find_engine", lambda *_: None)
    d = diagram(vmlife.lifecycle(), "power")
    assert d.dot().startswith("digraph") and "stateDiagram-v2" in d.mermaid()
    with pytest.raises(EngineNotFound, match=r"graphviz-pure==0\.2\.2"):
        d.svg()
    bundle = d._repr_mimebundle_()
    assert "image/svg+xml" not in bundle and "```mermaid" in bundle["text/markdown"]
    code, _ = run_cli("diagram", "power", "--format", "svg")
    assert code == 2 and "apt-get install graphviz" in capsys.readouterr().err
    assert run_cli("diagram", "power", "--format", "mermaid")[0] == 0


def test_diagram_cli_text_formats_and_choices() -> None:
    code, text = run_cli("diagram", "power", "--format", "dot", "--edition", "draft")
    assert code == 0
    assert text.rstrip("\n") == (GOLDEN / "power_draft.dot").read_text().rstrip("\n")
    code, text = run_cli("diagram", "os", "--format", "mermaid", "--highlight", "in_progress")
    assert code == 0 and "stateDiagram-v2" in text
    code, _ = run_cli("diagram", "power", "--edition", "1999", "--format", "dot")
    assert code == 2


def test_doctor_names_the_engine() -> None:
    code, text = run_cli("doctor", "--json")
    assert code == 0
    import json

    info = json.loads(text)
    assert (info["graphviz_engine"] is None) == (ENGINE is None)
    assert "vmlife.default_plugins.azure" in info["plugins"]


@needs_engine
def test_rich_display_of_core_objects() -> None:
    lc = vmlife.lifecycle()
    assert "image/svg+xml" in lc._repr_mimebundle_()
    vm = vmlife.VM("a").create()
    assert "<svg" in vm._repr_html_() and "allowed now" in vm._repr_html_()
    assert "<table" in vm.timeline._repr_html_()


class Lock:
    """A plugin axis set by its own operation and cleared, via adjust_operation, by the others."""

    @vmlife.hookimpl
    def register_states(self, register: Any) -> None:
        register(vmlife.Axis("lock", "LockState", "Lock"))
        register(vmlife.State("locked", "lock", "LockState/Locked", "Locked"))

    @vmlife.hookimpl
    def register_operations(self, register: Any) -> None:
        register(vmlife.Operation(
            "lock", (vmlife.Phase({}, key="updating"),), sources=frozenset({"running"}),
            final={"provisioning": "succeeded", "lock": "locked"},
        ))

    @vmlife.hookimpl
    def adjust_operation(self, vm: vmlife.VM, operation: vmlife.Operation) -> Any:
        if vm.state.get("lock") and operation.id != "lock":
            from dataclasses import replace

            return replace(operation, final={**operation.final, "lock": None})
        return None


def test_plugin_axis_follows_adjust_operation_and_every_pseudo_node_has_an_edge() -> None:
    with vmlife.registered(Lock(), name="lock-plugin"):
        g = diagram(vmlife.lifecycle(), "lifecycle").graph
        code, text = run_cli("diagram", "lock", "--format", "mermaid")
    assert code == 0 and "[*] --> s_lock__locked : lock" in text
    lock_edges = {(g.node(e.source).key, g.node(e.target).key): e.operations
                  for e in g.edges if g.node(e.source).axis == "lock"}
    assert lock_edges[("lock:start", "lock.locked")] == ("lock",)
    # leaving the lock axis goes back to its one "no lock state" node: the VM is not deleted
    leaving = lock_edges[("lock.locked", "lock:start")]
    assert {"power_off", "deallocate", "delete"} <= set(leaving) and "lock" not in leaving
    assert all(e.source != e.target for e in g.edges if g.node(e.source).axis != "power")
    cluster = next(c for c in g.clusters if c.axis == "lock")
    assert cluster.plugin == "lock-plugin"
    ends = {e.source for e in g.edges} | {e.target for e in g.edges}
    assert [n.key for n in g.nodes if n.kind != "state" and n.id not in ends] == []


def test_loops_only_on_the_power_axis_and_optional() -> None:
    lc = vmlife.lifecycle()
    power = diagram(lc, "power").graph
    loops = {power.node(e.source).name: e.operations for e in power.edges if e.source == e.target}
    assert loops == {s: ("update", "reapply") for s in ("running", "stopped", "deallocated")}
    assert not any(e.source == e.target for e in diagram(lc, "power", loops=False).graph.edges)


def test_an_axis_never_left_has_no_end_pseudo_node() -> None:
    class StickyLock:
        register_states = Lock.register_states
        register_operations = Lock.register_operations

    with vmlife.registered(StickyLock(), name="sticky"):
        g = diagram(vmlife.lifecycle(), "lock").graph
    assert [n.key for n in g.nodes] == ["lock:start", "lock.locked"]


def test_doctor_says_which_extra_brings_a_missing_package() -> None:
    import json
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['msgspec'] = None\n"
        "from vmlife.cli import main\n"
        "raise SystemExit(main(['doctor', '--json']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["msgspec"] == ('missing: pip install "vmlife[fast]" for reading large Activity '
                               "Logs fast")
    assert info["pandas"].startswith("installed")
