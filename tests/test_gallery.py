"""``vmlife diagram --all -o DIR [--check]``: every scope under every edition, with an index,
and a check that names each stale file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import vmlife
from vmlife.cli import main
from vmlife.render import find_engine
from vmlife.render.gallery import FINGERPRINT

needs_engine = pytest.mark.skipif(find_engine() is None, reason="no Graphviz engine installed")
EDITIONS = ("draft", "2018-08", "lifecycle", "2021-03", "2023-10")


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def test_all_writes_every_scope_and_edition_with_an_index(tmp_path: Path) -> None:
    code, text = run("diagram", "--all", "--no-svg", "-o", str(tmp_path))
    assert code == 0 and "Wrote" in text
    names = {p.name for p in tmp_path.iterdir()}
    for scope in ("power", "provisioning", "os", "lifecycle"):
        for ed in EDITIONS:
            assert f"{scope}-{ed}.mmd" in names
    assert not any(n.endswith(".svg") for n in names)
    index = (tmp_path / "index.md").read_text()
    assert "Mermaid: [power-2023-10.mmd](power-2023-10.mmd)" in index
    assert "## Whole lifecycle (`lifecycle`)" in index
    assert "plugins loaded: none" in index
    assert (tmp_path / "power-draft.mmd").read_text() == vmlife.render.diagram(
        vmlife.lifecycle(), "power", edition="draft").mermaid()
    code, text = run("diagram", "--all", "--no-svg", "-o", str(tmp_path), "--check")
    assert code == 0 and "up to date" in text


@needs_engine
def test_check_names_each_stale_file_and_ignores_the_engine(tmp_path: Path) -> None:
    code, _ = run("diagram", "--all", "-o", str(tmp_path))
    assert code == 0
    svg = (tmp_path / "power-2023-10.svg").read_text()
    assert f"<!-- {FINGERPRINT}: " in svg
    assert '<img src="power-2023-10.svg"' in (tmp_path / "index.html").read_text()
    # another Graphviz draws other bytes from the same DOT: still up to date
    (tmp_path / "power-2023-10.svg").write_text(svg.replace("<title>", "<title> "))
    assert run("diagram", "--all", "-o", str(tmp_path), "--check")[0] == 0
    # a hand-edited Mermaid file, a deleted picture, a file no longer made
    (tmp_path / "os-draft.mmd").write_text("stateDiagram-v2\n")
    (tmp_path / "lifecycle-2021-03.svg").unlink()
    (tmp_path / "hibernation-2023-10.mmd").write_text("old")
    (tmp_path / "notes.txt").write_text("not ours")
    code, text = run("diagram", "--all", "-o", str(tmp_path), "--check")
    assert code == 1
    stale = [line for line in text.splitlines() if line.startswith("stale: ")]
    assert stale == [
        f"stale: {tmp_path / 'os-draft.mmd'}: out of date",
        f"stale: {tmp_path / 'lifecycle-2021-03.svg'}: missing",
        f"stale: {tmp_path / 'hibernation-2023-10.mmd'}: no longer made (remove it)",
    ]
    # the check wrote nothing
    assert (tmp_path / "os-draft.mmd").read_text() == "stateDiagram-v2\n"


def test_a_plugin_makes_the_gallery_stale(tmp_path: Path) -> None:
    hibernation = pytest.importorskip("vmlife_hibernation")

    run("diagram", "--all", "--no-svg", "-o", str(tmp_path))
    with vmlife.registered(hibernation):
        code, text = run("diagram", "--all", "--no-svg", "-o", str(tmp_path), "--check")
        assert code == 1
        assert f"stale: {tmp_path / 'hibernation-2023-10.mmd'}: missing" in text
        assert f"stale: {tmp_path / 'lifecycle-2023-10.mmd'}: out of date" in text
        assert f"stale: {tmp_path / 'index.md'}: out of date" in text
        run("diagram", "--all", "--no-svg", "-o", str(tmp_path))
        intro = (tmp_path / "index.md").read_text().splitlines()[2]
        assert "plugins loaded: " in intro and "hibernation" in intro
        assert run("diagram", "--all", "--no-svg", "-o", str(tmp_path), "--check")[0] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("diagram", "--all"), "--all needs -o DIR"),
        (("diagram", "power", "--all", "-o", "x"), "drop SCOPE"),
        (("diagram", "--all", "--edition", "draft", "-o", "x"), "drop --edition"),
        (("diagram", "--check"), "--check and --no-svg go with --all"),
    ],
)
def test_all_refuses_options_it_cannot_honour(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run(*args)
    assert code == 2
    assert message in capsys.readouterr().err
