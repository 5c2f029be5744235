"""Test isolation for the cross-plugin tests: installed plugins load only when a test asks."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ["VMLIFE_LOAD_PLUGINS"] = ""

import vmlife.plugins


@pytest.fixture(autouse=True)
def _bare_core(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("VMLIFE_LOAD_PLUGINS", "")
    vmlife.plugins.reset()
    yield
    vmlife.plugins.reset()
