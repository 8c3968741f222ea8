"""Pure decoders: barcode data (AIM identifiers, GTIN, GS1 element strings, Digital Link) and
EPCs from UHF tags (GS1 Tag Data Standard)."""

from warehouse_drivers.decoding.barcode import DecodedBarcode, DecodeError, decode_barcode
from warehouse_drivers.decoding.epc import DecodedEpc, decode_epc

__all__ = ["DecodeError", "DecodedBarcode", "DecodedEpc", "decode_barcode", "decode_epc"]
