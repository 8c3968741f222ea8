"""NFC Forum NDEF messages decoded strictly (with ndeflib), every record described.

nfcpy hands a tag's records over after a *relaxed* decode, which reads a message whose first
record lacks MB, whose last lacks ME, or whose URI record uses a reserved identifier code as a
good one. Here the tag's octets are decoded again in strict mode; any such message is refused
with ``malformed_ndef`` and the reason, never guessed at. Chunked records (CF) are refused too:
ndeflib hands each chunk over as a record of its own, and tags in a warehouse carry short
records (docs/decisions.md).

ndeflib is imported when a message is decoded, so the service (which never reads tags) does not
need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from warehouse_drivers.decoding.barcode import DecodeError
from warehouse_drivers.decoding.epc import DecodedEpc, decode_epc_uri

#: Our name for each record type ndeflib knows.
_KINDS = {
    "urn:nfc:wkt:U": "uri",
    "urn:nfc:wkt:T": "text",
    "urn:nfc:wkt:Sp": "smartposter",
}


@dataclass(frozen=True, slots=True)
class NdefRecord:
    """One record of a message: its type and what it says."""

    type: str  # ndeflib's record type: "urn:nfc:wkt:U", "text/plain", "urn:nfc:ext:..."
    kind: str  # uri | text | smartposter | mime | external | empty | other
    size: int  # payload octets
    name: str = ""  # the record identifier, if any
    uri: str | None = None  # a URI record's, or a smart poster's resource
    text: str | None = None  # a text record's, or a smart poster's title
    language: str | None = None  # a text record's language code
    mime_type: str | None = None  # for kind "mime"
    epc: DecodedEpc | None = None  # a urn:epc:id: URI, resolved to its GS1 key


def decode_ndef(octets: bytes) -> tuple[NdefRecord, ...]:
    """Every record of an NDEF message, or DecodeError ``malformed_ndef`` saying why."""
    import ndef

    try:
        records = list(ndef.message_decoder(octets, errors="strict"))
    except (ndef.DecodeError, ValueError) as exc:  # ndeflib raises a bare ValueError for a
        # record type its TNF cannot carry (found by tests/unit/test_decoder_fuzz.py)
        raise DecodeError("malformed_ndef", str(exc)) from exc
    if not records:
        raise DecodeError("malformed_ndef", "the message holds no record")
    if any(record.type == "unchanged" for record in records):
        raise DecodeError("malformed_ndef", "chunked records are not supported")
    return tuple(_describe(record) for record in records)


def _describe(record: Any) -> NdefRecord:
    import ndef

    kind = _KINDS.get(record.type)
    size = len(record.data) if hasattr(record, "data") else 0
    name = record.name if isinstance(record.name, str) else ""
    if isinstance(record, ndef.UriRecord):
        return NdefRecord(record.type, "uri", size, name, uri=record.uri, epc=_epc(record.uri))
    if isinstance(record, ndef.TextRecord):
        return NdefRecord(
            record.type, "text", size, name, text=record.text, language=record.language
        )
    if isinstance(record, ndef.SmartposterRecord):
        uri = record.resource.uri if record.resource else None
        return NdefRecord(
            record.type, "smartposter", size, name, uri=uri, text=record.title, epc=_epc(uri)
        )
    if record.type == "":
        return NdefRecord("", "empty", 0, name)
    if kind is None and "/" in record.type and not record.type.startswith("urn:"):
        return NdefRecord(record.type, "mime", size, name, mime_type=record.type)
    if record.type.startswith("urn:nfc:ext:"):
        return NdefRecord(record.type, "external", size, name)
    return NdefRecord(record.type, kind or "other", size, name)


def _epc(uri: str | None) -> DecodedEpc | None:
    if not uri or not uri.startswith("urn:epc:id:"):
        return None
    try:
        return decode_epc_uri(uri)
    except DecodeError:
        return None


def preferred(records: tuple[NdefRecord, ...]) -> str | None:
    """What a tag says, as the agent reads it: the first URI, else the first text, else the
    first smart poster's URI."""
    for kind, value in (("uri", "uri"), ("text", "text"), ("smartposter", "uri")):
        for record in records:
            found = getattr(record, value)
            if record.kind == kind and found:
                return str(found)
    return None
