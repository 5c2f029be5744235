"""Plugins loaded through fake entry points by tests/test_plugins.py."""

from __future__ import annotations

from typing import Any

import vmlife


class _Alpha:
    @vmlife.hookimpl
    def register_operations(self, register: Any) -> None:
        pass


class _Beta:
    @vmlife.hookimpl
    def register_states(self, register: Any) -> None:
        pass


alpha = _Alpha()
beta = _Beta()
