"""Driver parameters checked against the driver's own constructor annotations, so a config file
with ``baudrate = "fast"`` is refused when it loads, naming the parameter, instead of failing
when the port opens. Written here because the drivers may not use pydantic (layering rules)."""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from typing import Any, Literal, Union

from warehouse_drivers.errors import DriverConfigError

_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def check_params(cls: type, kind: str, name: str, params: dict[str, Any]) -> None:
    """Raise DriverConfigError if a parameter is unknown to ``cls`` or of the wrong type."""
    init = vars(cls).get("__init__") or next(
        vars(base)["__init__"] for base in cls.__mro__ if "__init__" in vars(base)
    )
    hints = typing.get_type_hints(init)
    signature = inspect.signature(init)
    for key, value in params.items():
        if key not in signature.parameters or key in ("self", "name"):
            continue  # unknown ones: the driver itself names them all at once
        hint = hints.get(key, Any)
        problem = _mismatch(value, hint)
        if problem:
            raise DriverConfigError(
                f"{kind} driver {name}: {key}: expected {problem}, received {value!r}", field=key
            )


def _mismatch(value: Any, hint: Any) -> str | None:
    """What was expected, if ``value`` does not fit ``hint``; None if it does."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return None
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return None
        failures = [_mismatch(value, a) for a in options]
        return None if None in failures else " or ".join(f for f in failures if f)
    if origin is Literal:
        return None if value in args else "one of " + ", ".join(repr(a) for a in args)
    if hint in _NAMES:
        return _scalar(value, hint)
    if origin in (list, tuple, collections.abc.Sequence, collections.abc.Iterable):
        if not isinstance(value, list | tuple):
            return "a list"
        return _each(value, args[0] if args else Any, "a list")
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, dict):
            return "a table"
        return _each(list(value.values()), args[1] if len(args) == 2 else Any, "a table")
    return None  # a type we do not check: the driver does


def _scalar(value: Any, hint: type) -> str | None:
    if isinstance(value, bool) and hint is not bool:
        return _NAMES[hint]
    if hint is float and isinstance(value, int):
        return None
    return None if isinstance(value, hint) else _NAMES[hint]


def _each(values: list[Any] | tuple[Any, ...], hint: Any, container: str) -> str | None:
    for element in values:
        problem = _mismatch(element, hint)
        if problem:
            return f"{container} of {problem.removeprefix('an ').removeprefix('a ')}s"
    return None
