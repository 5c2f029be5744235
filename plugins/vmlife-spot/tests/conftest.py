"""Test isolation: installed plugins stay out unless a test asks (as in vmlife's own tests).

``VMLIFE_LOAD_PLUGINS`` is empty (the bare core plus vmlife's default plugins) before anything
loads plugins; the ``spot`` fixture registers this plugin for one test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType

import pytest

os.environ["VMLIFE_LOAD_PLUGINS"] = ""

import vmlife_spot

import vmlife
import vmlife.plugins


@pytest.fixture(autouse=True)
def _bare_core(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("VMLIFE_LOAD_PLUGINS", "")
    vmlife.plugins.reset()
    yield
    vmlife.plugins.reset()


@pytest.fixture
def spot() -> Iterator[ModuleType]:
    with vmlife.registered(vmlife_spot):
        yield vmlife_spot
