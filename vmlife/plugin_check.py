"""``vmlife plugins --check``: load every plugin, build the lifecycle, report every problem.

Loading plugins for real stops at the first problem (the lifecycle cannot be built past it).
:func:`check_plugins` goes on: it loads the plugins into a plugin manager of its own, asks each
one's hooks, and collects what is wrong, each problem naming the plugin by its entry-point name
(or the name it was registered under):

* ``import``: the entry point's module fails to import;
* ``registration``: pluggy refuses the plugin (a hook implementation with an argument the hook
  does not have, say);
* ``unknown hook``: a ``@vmlife.hookimpl`` function named after no hook (a misspelling), with
  the closest hook as "did you mean";
* ``definition``: the lifecycle cannot use what a plugin registered (two plugins defining one
  state, axis, operation or edition; a state on an axis nobody registered; an operation from or
  to a state nobody registered; billing rules for an unknown state or edition) or a hook
  raised;
* ``billing override`` (a *notice*, not an error): billing rules registered with
  ``mode="override"``, which replace the power state's rule while the plugin's state holds.
  They are deliberate (hibernation's are), but they change bills, so the check lists them.

Errors make ``vmlife plugins --check`` exit with status 3; notices do not, unless ``--strict``.
The plugins checked are those the process would load (``VMLIFE_LOAD_PLUGINS`` is honoured),
plus any registered for the moment with :func:`vmlife.registered`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Literal

import pluggy

from . import hookspecs
from . import plugins as _plugins
from .errors import ConflictError, DefinitionError, PluginError

__all__ = ["CheckResult", "Problem", "check_plugins"]

Severity = Literal["error", "notice"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with (or worth knowing about) a plugin.

    Attributes:
        plugin: the entry-point name, or the registered name; two names joined by ``" / "``
            for a conflict between two plugins.
        kind: ``import``, ``registration``, ``unknown hook``, ``definition`` or
            ``billing override``.
        message: what is wrong and what to do, in words.
        severity: ``error`` (the lifecycle is wrong) or ``notice`` (deliberate, but it changes
            results).
    """

    plugin: str
    kind: str
    message: str
    severity: Severity = "error"

    def as_dict(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return {
            "plugin": self.plugin,
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass
class CheckResult:
    """What :func:`check_plugins` found.

    Attributes:
        plugins: every plugin that could be registered, as ``vmlife plugins`` lists them.
        problems: every problem, errors and notices, in the order found.
    """

    plugins: list[_plugins.PluginInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """The problems of severity ``error``."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        """True when there is no error (notices allowed)."""
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``ok``, ``plugins`` and ``problems``."""
        return {
            "ok": self.ok,
            "plugins": [p.as_dict() for p in self.plugins],
            "problems": [p.as_dict() for p in self.problems],
        }


def check_plugins() -> CheckResult:
    """Load the plugins into a fresh plugin manager, build the lifecycle, collect every problem.

    Never raises for a plugin's fault: each becomes a :class:`Problem`. The process-wide plugin
    manager is not touched (a broken plugin is reported here and still fails loudly there).
    """
    from .lifecycle import Lifecycle

    result = CheckResult()
    pm = pluggy.PluginManager("vmlife")
    pm.add_hookspecs(hookspecs)
    dists: dict[str, tuple[str, str]] = {}
    for modname in _plugins.DEFAULT_PLUGINS:
        pm.register(importlib.import_module(modname), name=modname)
    try:
        eps = _plugins.wanted_entry_points()
    except PluginError as exc:  # VMLIFE_LOAD_PLUGINS names a plugin nobody installed
        result.problems.append(Problem(exc.plugin, "import", str(exc)))
        eps = []
    for ep in eps:
        dist = ep.dist
        dist_name = dist.metadata["Name"] if dist is not None else "?"
        if pm.has_plugin(ep.name):
            continue
        try:
            plugin = _plugins.load_entry_point(ep)
        except PluginError as exc:
            result.problems.append(Problem(ep.name, "import", str(exc)))
            continue
        try:
            _plugins.register_named(pm, plugin, ep.name, dist_name)
        except PluginError as exc:
            result.problems.append(Problem(ep.name, "registration", str(exc)))
            continue
        dists[ep.name] = (dist_name, dist.version if dist is not None else "?")
    _add_registered(pm, dists, result)
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        for hook in _plugins.unknown_hooks(pm, plugin):
            result.problems.append(
                Problem(name, "unknown hook", _plugins.unknown_hook_message(name, hook))
            )
    result.plugins = _plugins.plugin_infos(pm, dists)
    names = [n for n, p in pm.list_name_plugin() if p is not None]
    found: list[DefinitionError] = []
    lc = Lifecycle(pm, problems=found)
    for err in found:
        result.problems.append(Problem(_blame(err, names), "definition", str(err)))
    result.problems.extend(_overrides(lc))
    return result


def _add_registered(
    pm: pluggy.PluginManager, dists: dict[str, tuple[str, str]], result: CheckResult
) -> None:
    """Add the plugins registered in this process for the moment (``vmlife.registered``)."""
    live = _plugins.current_plugin_manager()
    if live is None:
        return
    for name, plugin in live.list_name_plugin():
        if plugin is None or pm.has_plugin(name) or pm.is_registered(plugin):
            continue
        try:
            _plugins.register_named(pm, plugin, name)
        except PluginError as exc:
            result.problems.append(Problem(name, "registration", str(exc)))
            continue
        if name in _plugins.loaded_distributions():
            dists[name] = _plugins.loaded_distributions()[name]


def _blame(exc: DefinitionError, names: list[str]) -> str:
    """The plugin (or plugins) a definition error is about."""
    if isinstance(exc, PluginError):
        return exc.plugin
    if isinstance(exc, ConflictError):
        return " / ".join(exc.plugins)
    text = str(exc)
    named = [n for n in names if f"plugin {n!r}" in text]
    return " / ".join(named) if named else "?"


def _overrides(lc: Any) -> list[Problem]:
    """One notice per plugin and overriding state, listing the editions it overrides in."""
    by_key: dict[tuple[str, str], list[str]] = {}
    for ed in sorted(lc.editions.values(), key=lambda e: e.order):
        for key in sorted(ed.overrides):
            plugin = lc.override_plugins.get((ed.id, key), ed.plugin)
            by_key.setdefault((plugin, key), []).append(ed.id)
    out = []
    for (plugin, key), editions in by_key.items():
        rule = lc.editions[editions[-1]].rule_for(key)
        bills = " and ".join(sorted(rule.bills)) if rule.bills else "no compute and no licence"
        out.append(
            Problem(
                plugin,
                "billing override",
                f"plugin {plugin!r}: the billing rule for {key!r} overrides the power state's "
                f"(mode='override') in edition{'s' if len(editions) > 1 else ''} "
                f"{', '.join(editions)}: while it holds, the VM bills {bills} ({rule.wording}), "
                f"whatever its power state. Disks and networking bill as always.",
                "notice",
            )
        )
    return out

