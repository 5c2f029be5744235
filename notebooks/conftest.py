"""nbval set-up: the local replay of Azure that ``05-from-azure.ipynb`` talks to.

Before the notebooks run, the replay server (``tests/azure/replay.py``) is started in a
subprocess listening on 127.0.0.1 only; ``VMLIFE_AZURE_REPLAY`` names the file where it wrote
its address, test CA, subscription, token and cost export, and the notebook kernel inherits
it. After the run the server is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_server: dict[str, object] = {}


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("VMLIFE_AZURE_REPLAY"):
        return  # already serving (make notebooks-test started one)
    try:
        import trustme  # noqa: F401
    except ImportError:  # the notebook then needs a real subscription
        return
    folder = tempfile.mkdtemp(prefix="vmlife-replay-")
    info = os.path.join(folder, "replay.json")
    proc = subprocess.Popen([sys.executable, "-m", "tests.azure.replay", "--info", info],
                            cwd=ROOT)
    deadline = time.monotonic() + 30
    while not os.path.exists(info):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the Azure replay server did not start")
        time.sleep(0.1)
    pid = json.loads(Path(info).read_text(encoding="utf-8"))["pid"]
    _server.update(pid=pid, proc=proc)
    os.environ["VMLIFE_AZURE_REPLAY"] = info


def pytest_unconfigure(config: pytest.Config) -> None:
    pid = _server.get("pid")
    proc = _server.get("proc")
    if isinstance(pid, int):
        os.kill(pid, signal.SIGTERM)
        if isinstance(proc, subprocess.Popen):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
        os.environ.pop("VMLIFE_AZURE_REPLAY", None)
