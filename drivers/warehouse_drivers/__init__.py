"""Hardware drivers and pure decoders: bytes, frames and key events in, reads out.

Knows nothing of stock, MQTT or the service. Each backend imports its hardware library when it
opens, so a device without evdev or python-can still runs a serial scanner.
"""

from warehouse_drivers.base import Driver, Level, Read, RejectedRead, TagReport
from warehouse_drivers.decoding import (
    RCN_REGIONS,
    DecodedBarcode,
    DecodedEpc,
    DecodeError,
    Measure,
    NdefRecord,
    VariableMeasure,
    decode_barcode,
    decode_epc,
    decode_epc_uri,
    decode_ndef,
)
from warehouse_drivers.errors import (
    DeviceUnavailable,
    DriverConfigError,
    DriverError,
    DriverNotInstalled,
)
from warehouse_drivers.framing import LineFramer, Overlong
from warehouse_drivers.keymap import KeyDecoder
from warehouse_drivers.registry import BACKENDS, PRINTERS, create_driver, create_printer

__all__ = [
    "BACKENDS",
    "PRINTERS",
    "RCN_REGIONS",
    "DecodeError",
    "DecodedBarcode",
    "DecodedEpc",
    "DeviceUnavailable",
    "Driver",
    "DriverConfigError",
    "DriverError",
    "DriverNotInstalled",
    "KeyDecoder",
    "Level",
    "LineFramer",
    "Measure",
    "NdefRecord",
    "Overlong",
    "Read",
    "RejectedRead",
    "TagReport",
    "VariableMeasure",
    "create_driver",
    "create_printer",
    "decode_barcode",
    "decode_epc",
    "decode_epc_uri",
    "decode_ndef",
]
