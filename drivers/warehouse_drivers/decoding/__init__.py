"""Pure decoders: barcode data (AIM identifiers, GTIN, GS1 element strings, Digital Link)."""

from warehouse_drivers.decoding.barcode import DecodedBarcode, DecodeError, decode_barcode

__all__ = ["DecodeError", "DecodedBarcode", "decode_barcode"]
