"""The Graphviz engine that turns DOT text into SVG, PNG or PDF.

vmlife runs a Graphviz command line itself (no Python binding needed). It looks, in order, for:

1. the command named by the ``VMLIFE_DOT`` environment variable, when set (a path or a name
   on ``PATH``);
2. the system ``dot`` (Debian/Ubuntu package ``graphviz``), which writes SVG, PNG and PDF;
3. ``graphviz-pure`` (``pip install graphviz-pure==0.2.2``, also in vmlife's ``diagrams`` and
   ``test`` extras): a self-contained port of ``dot`` with the same flags, which needs no root.
   It writes SVG and PNG, not PDF. It is found on ``PATH`` or beside the running Python (a
   virtualenv's ``bin`` need not be on ``PATH``).

With no engine, DOT and Mermaid text still work; asking for a picture raises
:class:`EngineNotFound` saying what to install. ``vmlife doctor`` shows the engine in use.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from ..errors import RunError

__all__ = [
    "FORMATS",
    "PURE_VERSION",
    "EngineNotFound",
    "GraphvizEngine",
    "find_engine",
    "render_dot",
]

#: The graphviz-pure release vmlife pins (also in pyproject's extras).
PURE_VERSION = "0.2.2"
#: Picture formats vmlife asks an engine for.
FORMATS: tuple[str, ...] = ("svg", "png", "pdf")
_PURE_FORMATS = frozenset({"svg", "png"})
INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz) "
    f"or, without root, pip install graphviz-pure=={PURE_VERSION} "
    "(or pip install 'vmlife[diagrams]'); DOT and Mermaid text need neither"
)
TIMEOUT = 60.0


class EngineNotFound(RunError):
    """No Graphviz engine can write the format asked for; the message says what to install."""


@dataclass(frozen=True)
class GraphvizEngine:
    """A Graphviz command line vmlife can run.

    Attributes:
        name: "graphviz" (the system ``dot``), "graphviz-pure", or "VMLIFE_DOT".
        path: the executable.
        formats: the picture formats it writes.
    """

    name: str
    path: str
    formats: frozenset[str]

    def version(self) -> str:
        """What ``<engine> -V`` prints (Graphviz writes it to standard error)."""
        try:
            proc = subprocess.run(
                [self.path, "-V"], capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
        except OSError as exc:
            return f"(cannot run: {exc})"
        return (proc.stderr or proc.stdout).strip()

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "path": self.path, "formats": sorted(self.formats),
                "version": self.version()}


def _beside_python(name: str) -> str | None:
    """``name`` in the scripts folder of the running Python (a virtualenv's bin)."""
    folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    for folder in folders:
        for candidate in (folder / name, folder / f"{name}.exe"):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return None


def find_engine() -> GraphvizEngine | None:
    """The engine vmlife uses, or None (see the module docstring for the order)."""
    return _find_engine(os.environ.get("VMLIFE_DOT", ""), os.environ.get("PATH", ""))


@functools.lru_cache(maxsize=8)
def _find_engine(override: str, _path_env: str) -> GraphvizEngine | None:
    if override:
        path = shutil.which(override)
        if path is None:
            raise EngineNotFound(
                f"VMLIFE_DOT={override!r} is not an executable; unset it to use the system "
                f"Graphviz or graphviz-pure"
            )
        pure = Path(path).name.startswith("graphviz-pure")
        return GraphvizEngine("VMLIFE_DOT", path, _PURE_FORMATS if pure else frozenset(FORMATS))
    path = shutil.which("dot")
    if path is not None:
        return GraphvizEngine("graphviz", path, frozenset(FORMATS))
    path = shutil.which("graphviz-pure") or _beside_python("graphviz-pure")
    if path is not None:
        return GraphvizEngine("graphviz-pure", path, _PURE_FORMATS)
    return None


def require_engine(fmt: str) -> GraphvizEngine:
    """The engine for ``fmt``, or :class:`EngineNotFound` saying what to install."""
    if fmt not in FORMATS:
        raise RunError(f"unknown picture format {fmt!r}; valid: {', '.join(FORMATS)}")
    engine = find_engine()
    if engine is None:
        raise EngineNotFound(f"rendering {fmt.upper()} needs a Graphviz engine: {INSTALL_HINT}")
    if fmt not in engine.formats:
        raise EngineNotFound(
            f"{engine.name} ({engine.path}) cannot write {fmt.upper()}; it writes "
            f"{', '.join(sorted(engine.formats))}. For {fmt.upper()}, install the system "
            f"Graphviz (Debian/Ubuntu: apt-get install graphviz)"
        )
    return engine


def render_dot(dot: str, fmt: str = "svg") -> bytes:
    """Run the Graphviz engine on DOT text; returns the picture's bytes.

    Raises:
        EngineNotFound: no engine, or none that writes ``fmt``.
        RunError: the engine failed (its message is included).
    """
    engine = require_engine(fmt)
    try:
        proc = subprocess.run(
            [engine.path, f"-T{fmt}"],
            input=dot.encode("utf-8"),
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RunError(f"{engine.name} ({engine.path}) could not run: {exc}") from exc
    if proc.returncode != 0 or not proc.stdout:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise RunError(
            f"{engine.name} ({engine.path}) failed with exit code {proc.returncode}: {err}"
        )
    return proc.stdout
