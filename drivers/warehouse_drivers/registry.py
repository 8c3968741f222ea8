"""Driver names to classes, imported lazily so a Pi without evdev can still run a serial scanner."""

from __future__ import annotations

import importlib
from typing import Any

from warehouse_drivers.base import Driver
from warehouse_drivers.errors import DriverConfigError
from warehouse_drivers.params import check_params

#: driver name -> (module, class)
BACKENDS: dict[str, tuple[str, str]] = {
    "serial": ("warehouse_drivers.serial_port", "SerialScanner"),
    "hid": ("warehouse_drivers.hid", "HidScanner"),
    "virtual": ("warehouse_drivers.virtual", "VirtualScanner"),
    "virtual-rfid": ("warehouse_drivers.virtual", "VirtualTagReader"),
    "can": ("warehouse_drivers.can.driver", "CanScanner"),
    "nfc": ("warehouse_drivers.nfc", "NfcReader"),
    "llrp": ("warehouse_drivers.llrp", "LlrpReader"),
}


#: output devices: printer name -> (module, class)
PRINTERS: dict[str, tuple[str, str]] = {
    "escpos": ("warehouse_drivers.printer", "EscposPrinter"),
}


def create_printer(kind: str, name: str, **params: Any) -> Any:
    """A receipt printer of ``kind`` named ``name`` (it connects when it first prints)."""
    try:
        module_name, class_name = PRINTERS[kind]
    except KeyError:
        known = ", ".join(sorted(PRINTERS))
        raise DriverConfigError(f"unknown printer {kind!r}; known printers: {known}") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    check_params(cls, kind, name, params)
    try:
        return cls(name, **params)
    except TypeError as exc:
        raise DriverConfigError(f"{kind} printer {name}: {exc}") from exc


def create_driver(kind: str, name: str, **params: Any) -> Driver:
    """A driver of ``kind`` named ``name``; its hardware library loads when it opens."""
    try:
        module_name, class_name = BACKENDS[kind]
    except KeyError:
        known = ", ".join(sorted(BACKENDS))
        raise DriverConfigError(f"unknown driver {kind!r}; known drivers: {known}") from None
    cls = getattr(importlib.import_module(module_name), class_name)
    check_params(cls, kind, name, params)
    try:
        driver: Driver = cls(name, **params)
    except TypeError as exc:
        raise DriverConfigError(f"{kind} driver {name}: {exc}") from exc
    return driver
