"""EPCs read from UHF tags, decoded per the GS1 EPC Tag Data Standard (with epcpy).

An EPC with a header of the TDS 1.x range (0x2C-0x3F) is decoded or rejected with the reason; a
header outside it is a non-GS1 EPC (ISO/customer data) and is kept raw. Of the schemes in that
range, those that carry a GS1 key (GTIN, SSCC, GLN, GRAI, GIAI, GSRN, GDTI, CPID, GCN) are
``is_gs1``; GID, US DoD and ADI carry identifiers that are not GS1 keys. A decoded EPC gives its
pure identity URI, tag URI (with filter value), company prefix, GS1 key, element string and
Digital Link URI, so an SSCC tag at a dock door can stand for a pallet and an SGLN tag for a
location. EPC URIs (``urn:epc:id:...``, on NFC tags and labels) decode the same way.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from urllib.parse import unquote

from epcpy import (  # type: ignore[attr-defined]
    ConvertException,
    hex_to_tag_encodable,
    tag_uri_to_tag_encodable,
)
from epcpy.epc_schemes import (  # type: ignore[attr-defined]
    ADI,
    CPI,
    GDTI,
    GIAI,
    GID,
    GRAI,
    GSRN,
    GSRNP,
    SGCN,
    SGLN,
    SGTIN,
    SSCC,
    USDOD,
)

from warehouse_drivers.decoding.results import DecodeError

_HEX = re.compile(r"^[0-9A-Fa-f]+$")
#: TDS 1.x binary headers: the GS1 range, every header named.
SCHEMES = {
    0x2C: "gdti-96",
    0x2D: "gsrn-96",
    0x2E: "gsrnp-96",
    0x2F: "usdod-96",
    0x30: "sgtin-96",
    0x31: "sscc-96",
    0x32: "sgln-96",
    0x33: "grai-96",
    0x34: "giai-96",
    0x35: "gid-96",
    0x36: "sgtin-198",
    0x37: "grai-170",
    0x38: "giai-202",
    0x39: "sgln-195",
    0x3A: "gdti-113",
    0x3B: "adi-var",
    0x3C: "cpi-96",
    0x3D: "cpi-var",
    0x3E: "gdti-174",
    0x3F: "sgcn-96",
}
GS1_HEADERS = range(0x2C, 0x40)
#: Schemes whose identity is not a GS1 key.
NOT_GS1_KEYS = frozenset({"usdod-96", "gid-96", "adi-var"})
#: Schemes with no filter value after the header.
_NO_FILTER = frozenset({"gid-96"})
#: EPC URI scheme -> epcpy class, for ``urn:epc:id:`` URIs.
_URI_CLASSES = {
    "sgtin": SGTIN,
    "sscc": SSCC,
    "sgln": SGLN,
    "grai": GRAI,
    "giai": GIAI,
    "gsrn": GSRN,
    "gsrnp": GSRNP,
    "gdti": GDTI,
    "cpi": CPI,
    "sgcn": SGCN,
    "gid": GID,
    "usdod": USDOD,
    "adi": ADI,
}
#: Pure identity URI kinds whose identity is not a GS1 key: no company prefix.
_NOT_GS1_KINDS = frozenset({"usdod", "gid", "adi"})


@dataclass(frozen=True, slots=True)
class DecodedEpc:
    """What an EPC says. ``uri`` is None for a non-GS1 EPC, which is kept as ``hex``."""

    hex: str
    scheme: str  # e.g. "sgtin-96", or "raw" for a non-GS1 EPC
    uri: str | None = None  # pure identity: urn:epc:id:sgtin:0614141.812345.6789
    gtin: str | None = None
    serial: str | None = None
    tag_uri: str | None = None  # urn:epc:tag:sgtin-96:3.0614141.812345.6789
    filter_value: int | None = None
    company_prefix: str | None = None
    gs1_key: str | None = None  # the SSCC, GLN, GRAI, GIAI, ... as digits
    sscc: str | None = None
    gln: str | None = None
    gln_extension: str | None = None
    grai: str | None = None
    giai: str | None = None
    cage: str | None = None  # US DoD and ADI: the CAGE code or DoDAAC
    part_number: str | None = None  # ADI: the original part number
    manager_number: str | None = None  # GID: the general manager number
    object_class: str | None = None  # GID

    @property
    def is_gs1(self) -> bool:
        """Whether the tag carries a GS1 key (GID, US DoD and ADI do not)."""
        return self.uri is not None and self.scheme not in NOT_GS1_KEYS

    @property
    def element_string(self) -> str | None:
        """The GS1 element string, e.g. ``(01)80614141123458(21)6789`` (worked out when asked:
        the ingest decodes every tag a reader reports and never needs it)."""
        return _views(self.uri)[0] if self.is_gs1 and self.uri else None

    @property
    def digital_link(self) -> str | None:
        """The GS1 Digital Link URI, e.g. ``https://id.gs1.org/01/80614141123458/21/6789``."""
        return _views(self.uri)[1] if self.is_gs1 and self.uri else None


@functools.lru_cache(maxsize=65536)
def decode_epc(value: str) -> DecodedEpc:
    """Decode an EPC given as hex (as readers report it), as a tag URI
    (``urn:epc:tag:sgtin-96:3.0614141.812345.6789``, which names the same binary) or as a pure
    identity URI (``urn:epc:id:sgtin:0614141.812345.6789``, which names the thing and no binary:
    its ``hex`` is empty); raise DecodeError with a reason."""
    text = value.strip()
    lowered = text[:12].lower()
    if lowered.startswith("urn:epc:tag:"):
        return decode_epc_tag_uri(text)
    if lowered.startswith("urn:epc:id:"):
        kind, _, identity = text[11:].partition(":")  # the URN's words are case-insensitive
        return decode_epc_uri(f"urn:epc:id:{kind.lower()}:{identity}")
    text = text.removeprefix("0x").removeprefix("0X")
    if not text or not _HEX.match(text):
        raise DecodeError("not_hex", f"EPC {value!r} is not hexadecimal")
    if len(text) % 4:
        raise DecodeError(
            "bad_length", f"EPC of {len(text) * 4} bits is not a whole number of 16-bit words"
        )
    header = int(text[:2], 16)
    if header not in GS1_HEADERS:
        return DecodedEpc(text.upper(), "raw")
    scheme = SCHEMES[header]
    try:
        epc = hex_to_tag_encodable(text)
    except (ConvertException, ValueError, IndexError, KeyError) as exc:
        raise DecodeError("invalid_epc", f"header 0x{header:02X} ({scheme}): {exc}") from exc
    filter_value = None if scheme in _NO_FILTER else (int(text[2:4], 16) >> 5) & 0b111
    return _described(text.upper(), scheme, str(epc.epc_uri), epc, filter_value)


@functools.lru_cache(maxsize=8192)
def decode_epc_uri(uri: str) -> DecodedEpc:
    """Decode a pure identity EPC URI (``urn:epc:id:sgtin:0614141.812345.6789``)."""
    match = re.fullmatch(r"urn:epc:id:([a-z]+):.+", uri.strip())
    cls = _URI_CLASSES.get(match.group(1)) if match else None
    if cls is None:
        raise DecodeError("invalid_epc_uri", f"{uri!r} is not a known urn:epc:id: URI")
    try:
        epc = cls(uri.strip())
    except (ConvertException, ValueError, IndexError, KeyError) as exc:
        raise DecodeError("invalid_epc_uri", f"{uri!r}: {exc}") from exc
    scheme = match.group(1) if match else ""
    try:
        hex_value = epc.hex() if hasattr(epc, "hex") else ""
    except Exception:  # noqa: BLE001 - epcpy cannot binary-encode every URI; the URI stands
        hex_value = ""
    return _described(hex_value.upper(), scheme, str(epc.epc_uri), epc, None)


@functools.lru_cache(maxsize=8192)
def decode_epc_tag_uri(uri: str) -> DecodedEpc:
    """Decode an EPC tag URI: its scheme and filter value give the exact binary, which decodes
    as the hex a reader would report."""
    match = re.fullmatch(r"urn:epc:tag:([a-z]+)-([a-z0-9]+):(?:([0-7])\.)?(.+)", uri, re.IGNORECASE)
    if match is None:
        raise DecodeError("invalid_epc_uri", f"{uri!r} is not a urn:epc:tag: URI")
    kind, size, filter_value, identity = match.groups()
    scheme = f"{kind.lower()}-{size.lower()}"
    tagged = f"urn:epc:tag:{scheme}:{filter_value + '.' if filter_value else ''}{identity}"
    try:
        epc = tag_uri_to_tag_encodable(tagged)
        coding = type(epc).BinaryCodingScheme(scheme)
        filters = getattr(
            sys.modules[type(epc).__module__], f"{type(epc).__name__}FilterValue", None
        )
        if filters is None:
            hex_value = epc.hex(binary_coding_scheme=coding)
        elif filter_value is None:
            raise DecodeError("invalid_epc_uri", f"{uri!r} has no filter value")
        else:
            hex_value = epc.hex(binary_coding_scheme=coding, filter_value=filters(filter_value))
    except (ConvertException, ValueError, IndexError, KeyError, TypeError) as exc:
        raise DecodeError("invalid_epc_uri", f"{uri!r}: {exc}") from exc
    return decode_epc(str(hex_value))


def _described(
    hex_value: str, scheme: str, uri: str, epc: object, filter_value: int | None
) -> DecodedEpc:
    kind, _, identity = uri.removeprefix("urn:epc:id:").partition(":")
    parts = [unquote(p) for p in identity.split(".")]
    if kind in _NOT_GS1_KINDS:
        return _not_gs1(hex_value, scheme, uri, kind, parts, filter_value)
    key = _call(epc, "gs1_key")
    gtin = serial = gln = gln_extension = None
    if kind == "sgtin":
        gtin = str(_call(epc, "gtin"))
        serial = parts[-1]
    elif kind == "sgln":
        gln = key
        gln_extension = parts[-1] if parts[-1] != "0" else None
    return DecodedEpc(
        hex_value,
        scheme,
        uri,
        gtin=gtin,
        serial=serial,
        tag_uri=_tag_uri(scheme, filter_value, uri),
        filter_value=filter_value,
        company_prefix=parts[0],
        gs1_key=key,
        sscc=key if kind == "sscc" else None,
        gln=gln,
        gln_extension=gln_extension,
        grai=key if kind == "grai" else None,
        giai=key if kind == "giai" else None,
    )


def _not_gs1(
    hex_value: str, scheme: str, uri: str, kind: str, parts: list[str], filter_value: int | None
) -> DecodedEpc:
    """A US DoD, ADI or GID tag: its own fields; no GS1 key, no company prefix."""
    fields: dict[str, str | None] = {"serial": parts[-1]}
    if kind in ("usdod", "adi"):
        fields["cage"] = parts[0]
    if kind == "adi":
        fields["part_number"] = parts[1] or None
    if kind == "gid":
        fields["manager_number"], fields["object_class"] = parts[0], parts[1]
    return DecodedEpc(
        hex_value,
        scheme,
        uri,
        tag_uri=_tag_uri(scheme, filter_value, uri),
        filter_value=filter_value,
        **fields,
    )


def _tag_uri(scheme: str, filter_value: int | None, uri: str) -> str | None:
    identity = uri.removeprefix("urn:epc:id:").partition(":")[2]
    if filter_value is not None:
        return f"urn:epc:tag:{scheme}:{filter_value}.{identity}"
    return f"urn:epc:tag:{scheme}:{identity}" if "-" in scheme else None


def _call(epc: object, name: str) -> str | None:
    method = getattr(epc, name, None)
    if method is None:
        return None
    try:
        value = method()
    except Exception:  # noqa: BLE001 - an epcpy scheme without this key: the field stays empty
        return None
    return str(value) if value is not None else None


@functools.lru_cache(maxsize=4096)
def _views(uri: str) -> tuple[str | None, str | None]:
    """(element string, Digital Link URI) of a pure identity URI."""
    from biip import ParseError
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI
    from biip.gs1_messages import GS1Message

    cls = _URI_CLASSES.get(uri.removeprefix("urn:epc:id:").partition(":")[0])
    element_string = _call(cls(uri), "gs1_element_string") if cls is not None else None
    if not element_string:
        return None, None
    try:
        message = GS1Message.parse_hri(element_string)
        link = str(GS1DigitalLinkURI.from_element_strings(message.element_strings).as_uri())
    except (ParseError, ValueError):
        link = None
    return element_string, link
