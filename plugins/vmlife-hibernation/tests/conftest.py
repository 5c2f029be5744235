"""Test isolation: installed plugins stay out unless a test asks (as in vmlife's own tests).

``VMLIFE_LOAD_PLUGINS`` is empty (the bare core plus vmlife's default plugins) before anything
loads plugins; the ``hibernation`` fixture registers this plugin for one test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType

import pytest

os.environ["VMLIFE_LOAD_PLUGINS"] = ""

import vmlife_hibernation

import vmlife
from vmlife.testing import bare_core  # noqa: F401  (autouse: no installed plugins)


@pytest.fixture
def hibernation() -> Iterator[ModuleType]:
    with vmlife.registered(vmlife_hibernation):
        yield vmlife_hibernation
