"""The one exception tree of vmlife.

Every error vmlife raises on purpose derives from :class:`VmlifeError`. It has two branches:

* :class:`DefinitionError`: the lifecycle itself is wrong (a plugin failed to load, two plugins
  define the same state, a state names an axis nobody registered). These surface when plugins
  are loaded and the lifecycle is assembled.
* :class:`RunError`: the lifecycle is fine but what was asked of it is not (an operation not
  allowed from the current state, bad input, an unknown name).

Catch :class:`VmlifeError` to catch everything vmlife raises deliberately.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "AzureAccessError",
    "AzureError",
    "ConflictError",
    "DefinitionError",
    "InputError",
    "OperationNotAllowed",
    "PluginError",
    "RunError",
    "ScheduleError",
    "UnknownNameError",
    "VmlifeError",
]


class VmlifeError(Exception):
    """Root of every error vmlife raises deliberately."""


class DefinitionError(VmlifeError):
    """The lifecycle definition is invalid (plugins, states, operations, editions)."""


class PluginError(DefinitionError):
    """A plugin failed to import, or raised inside one of its hooks.

    Attributes:
        plugin: the plugin's name (entry-point name or registered name).
        hook: the hook being called, or ``None`` when the import itself failed.
        distribution: the distribution that ships the plugin, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        plugin: str,
        hook: str | None = None,
        distribution: str | None = None,
    ) -> None:
        super().__init__(message)
        self.plugin = plugin
        self.hook = hook
        self.distribution = distribution


class ConflictError(DefinitionError):
    """Two plugins define the same thing (state, axis, operation, edition).

    Attributes:
        kind: what is defined twice ("state", "operation", ...).
        key: its identifier.
        plugins: the names of the two plugins, first definer first.
    """

    def __init__(self, kind: str, key: str, first: str, second: str) -> None:
        super().__init__(
            f"{kind} {key!r} is defined by both plugin {first!r} and plugin {second!r}; "
            f"unregister one of them or give the {kind} another id"
        )
        self.kind = kind
        self.key = key
        self.plugins = (first, second)


class RunError(VmlifeError):
    """Something asked of a valid lifecycle cannot be done."""


class UnknownNameError(RunError, LookupError):
    """A state, operation, axis, edition... id that is not registered.

    The message lists the valid choices.
    """

    def __init__(self, kind: str, name: object, choices: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.choices = sorted(set(choices))
        shown = ", ".join(self.choices) if self.choices else "(none registered)"
        super().__init__(f"unknown {kind} {name!r}; valid choices: {shown}")

    def __str__(self) -> str:  # LookupError would repr() the message otherwise
        return str(self.args[0])


class OperationNotAllowed(RunError):
    """An operation refused in the VM's current state. The VM is left unchanged.

    Attributes:
        operation: the operation id that was refused.
        state: a short text of the state it was refused in.
        reasons: why, one text per veto (the lifecycle's own rule or a plugin guard).
        allowed: the operations that are allowed now.
    """

    def __init__(
        self, operation: str, state: str, reasons: Sequence[str], allowed: Sequence[str]
    ) -> None:
        self.operation = operation
        self.state = state
        self.reasons = list(reasons)
        self.allowed = list(allowed)
        because = "; ".join(self.reasons)
        ok = ", ".join(self.allowed) if self.allowed else "(none)"
        super().__init__(f"Can't {operation} when in {state}: {because}. Allowed: {ok}")


class ScheduleError(RunError, ValueError):
    """Time would run backwards: an operation was asked to start before the last one ended."""


class InputError(RunError, ValueError):
    """Bad input: names the file, the record and the field at fault.

    Attributes:
        source: the file name (or ``"<stdin>"``, ``"<data>"``).
        record: the record's index or id inside the source, when known.
        field: the field at fault, when known.
        reason: what was wrong.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str | None = None,
        record: Any = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.source = source
        self.record = record
        self.field = field
        where = []
        if source is not None:
            where.append(str(source))
        if record is not None:
            where.append(f"record {record}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)


class AzureError(RunError):
    """An Azure call failed for good (after the retries the SDK pipeline made).

    The message names the call, what Azure answered and what to do about it.

    Attributes:
        call: what vmlife was doing, e.g. ``"Activity Log (Microsoft.Insights eventtypes)"``.
        status: the HTTP status Azure answered, or None (network error, no token).
        code: Azure's error code (``"AuthorizationFailed"``, ``"ExpiredAuthenticationToken"``),
            when the answer had one.
        retries: how many times the request was retried before giving up.
    """

    def __init__(
        self,
        message: str,
        *,
        call: str,
        status: int | None = None,
        code: str | None = None,
        retries: int = 0,
    ) -> None:
        super().__init__(message)
        self.call = call
        self.status = status
        self.code = code
        self.retries = retries


class AzureAccessError(AzureError):
    """Azure refused who is asking (HTTP 401/403), or no credential could give a token.

    Attributes:
        role: the built-in role that grants the call (``"Reader"``, ``"Monitoring Reader"``),
            when the refusal is about permissions.
        scope: the scope the role is needed on (``/subscriptions/<id>``).
    """

    def __init__(
        self,
        message: str,
        *,
        call: str,
        status: int | None = None,
        code: str | None = None,
        role: str | None = None,
        scope: str | None = None,
    ) -> None:
        super().__init__(message, call=call, status=status, code=code)
        self.role = role
        self.scope = scope
