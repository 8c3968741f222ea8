"""Pure decoders: barcode data (AIM identifiers, GTIN, GS1 element strings, Digital Link,
price- and weight-embedded numbers), EPCs from UHF tags (GS1 Tag Data Standard) and NFC Forum
NDEF messages."""

from warehouse_drivers.decoding.barcode import (
    RCN_REGIONS,
    DecodedBarcode,
    DecodeError,
    Measure,
    VariableMeasure,
    decode_barcode,
)
from warehouse_drivers.decoding.epc import DecodedEpc, decode_epc, decode_epc_uri
from warehouse_drivers.decoding.ndef import NdefRecord, decode_ndef

__all__ = [
    "RCN_REGIONS",
    "DecodeError",
    "DecodedBarcode",
    "DecodedEpc",
    "Measure",
    "NdefRecord",
    "VariableMeasure",
    "decode_barcode",
    "decode_epc",
    "decode_epc_uri",
    "decode_ndef",
]
