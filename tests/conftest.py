"""Test isolation: tests never see pip-installed plugins unless they ask for them.

``VMLIFE_LOAD_PLUGINS`` is set to empty (the bare core plus vmlife's default plugins) before
anything loads plugins; a test that wants installed plugins uses the ``installed_plugins``
fixture.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["VMLIFE_LOAD_PLUGINS"] = ""

import vmlife.plugins

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _bare_core(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("VMLIFE_LOAD_PLUGINS", "")
    yield
    vmlife.plugins.reset()


@pytest.fixture
def data() -> Path:
    return DATA
