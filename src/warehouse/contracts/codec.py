"""One codec for contract v1: bytes ⇄ models, with specific reasons for what it refuses.

Exceptions::

    ContractError            a payload is not a valid v1 message; ``reason`` is one of REASONS
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any, Final, TypeVar
from uuid import UUID

import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError

from warehouse.contracts.base import MAX_SEQ
from warehouse.contracts.messages import EVENT_TYPES, Event

DEFAULT_MAX_PAYLOAD = 256 * 1024
#: JSON nested deeper than this is refused while it is parsed (pydantic-core's parser limit),
#: never by a recursive walk: a payload of 10,000 nested arrays costs nothing to refuse.
MAX_DEPTH: Final = 200
_NUL_ESCAPE = b"\\u0000"

REASONS: Final = (
    "payload_too_large",
    "not_utf8",
    "not_json",
    "too_deep",
    "not_an_object",
    "unsupported_version",
    "unknown_type",
    "invalid_message",
)

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
M = TypeVar("M", bound=BaseModel)


class ContractError(ValueError):
    """A payload is not a valid contract message.

    ``reason`` is a stable machine code, ``detail`` names the field, what was expected and what
    was received. ``event_id``, ``agent_id``, ``seq`` and ``site`` are whatever could be read from
    the envelope, so a rejected event can still be deduplicated and acknowledged.
    """

    def __init__(self, reason: str, detail: str, ids: dict[str, Any] | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        ids = ids or {}
        self.event_id: UUID | None = ids.get("event_id")
        self.agent_id: str | None = ids.get("agent_id")
        self.site: str | None = ids.get("site")
        self.seq: int | None = ids.get("seq")


def encode(message: BaseModel) -> bytes:
    """Encode any contract model as compact UTF-8 JSON, leaving out unset optional fields."""
    return message.model_dump_json(exclude_none=True, by_alias=True).encode()


def encode_feedback(
    level: str, text: str, device: str | None, event_id: str | None, issued_at: datetime
) -> bytes:
    """A ``feedback`` command, the same bytes :func:`encode` makes of the model, built without
    it: the ingest worker sends one per reconciled scan (tests check the two agree)."""
    body: dict[str, str] = {"type": "feedback", "level": level, "text": text[:200]}
    if device is not None:
        body["device"] = device
    if event_id is not None:
        body["event_id"] = event_id
    stamp = issued_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    command = {"v": 1, "command_id": str(uuid.uuid4()), "issued_at": stamp, "body": body}
    return json.dumps(command, separators=(",", ":"), ensure_ascii=False).encode()


def decode_event(payload: bytes, *, max_bytes: int = DEFAULT_MAX_PAYLOAD) -> Event:
    """Decode an ``events`` payload, or raise :class:`ContractError` saying exactly why not."""
    if len(payload) > max_bytes:
        raise ContractError(
            "payload_too_large", f"payload is {len(payload)} bytes, the limit is {max_bytes}"
        )
    try:
        event = _EVENT_ADAPTER.validate_json(payload)
    except ValidationError as exc:
        raise _explain(payload, exc) from exc
    if _NUL_ESCAPE in payload:
        _refuse_nul(payload)
    return event


def decode(model: type[M], payload: bytes, *, max_bytes: int = DEFAULT_MAX_PAYLOAD) -> M:
    """Decode a payload as one specific contract model (acks, status, commands)."""
    if len(payload) > max_bytes:
        raise ContractError(
            "payload_too_large", f"payload is {len(payload)} bytes, the limit is {max_bytes}"
        )
    try:
        message = model.model_validate_json(payload)
    except ValidationError as exc:
        raise _explain(payload, exc) from exc
    if _NUL_ESCAPE in payload:
        _refuse_nul(payload)
    return message


def _explain(payload: bytes, exc: ValidationError) -> ContractError:
    """Turn a failed validation into the most specific reason we can give."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as err:
        return ContractError("not_utf8", f"payload is not UTF-8 ({err.reason} at byte {err.start})")
    try:
        doc = pydantic_core.from_json(text)
    except ValueError as err:
        if "recursion limit" in str(err):
            return ContractError(
                "too_deep", f"JSON is nested deeper than {MAX_DEPTH} levels ({err})"
            )
        return ContractError("not_json", f"payload is not JSON: {err}")
    if not isinstance(doc, dict):
        return ContractError(
            "not_an_object", f"expected a JSON object, received {type(doc).__name__}"
        )
    ids = _readable_ids(doc)
    if "v" in doc and doc["v"] != 1:
        return ContractError(
            "unsupported_version", f"field 'v': expected 1, received {_shown(doc['v'])}", ids
        )
    if "type" in doc and doc["type"] not in EVENT_TYPES:
        return ContractError(
            "unknown_type",
            f"field 'type': expected one of {', '.join(EVENT_TYPES)}, "
            f"received {_shown(doc['type'])}",
            ids,
        )
    return ContractError("invalid_message", describe_errors(exc), ids)


def describe_errors(exc: ValidationError, limit: int = 5) -> str:
    """One line per failing field: path, what was expected, what was received."""
    lines = []
    for err in exc.errors(include_url=False)[:limit]:
        path = ".".join(str(p) for p in err["loc"] if p not in EVENT_TYPES) or "(message)"
        if err["type"] == "missing":
            lines.append(f"field '{path}': required, missing")
            continue
        received = _shown(err.get("input"))
        lines.append(f"field '{path}': {err['msg']} (received {received})")
    more = exc.error_count() - limit
    if more > 0:
        lines.append(f"and {more} more")
    return "; ".join(lines)


def _refuse_nul(payload: bytes) -> None:
    """Refuse a message with a NUL character in any string: no database stores one in text."""
    doc = pydantic_core.from_json(payload)
    path = _nul_path(doc, ())
    if path is None:  # the escape was itself escaped ("\\\\u0000"): no NUL after all
        return
    ids = _readable_ids(doc) if isinstance(doc, dict) else {}
    where = ".".join(str(p) for p in path) or "(message)"
    raise ContractError(
        "invalid_message", f"field '{where}': contains a NUL character (\\u0000)", ids
    )


def _nul_path(value: Any, path: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """Where a string with NUL is; the depth is bounded by the parser's own limit."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return (*path, key)
        found = _nul_path(item, (*path, key))
        if found is not None:
            return found
    return None


def _shown(value: Any, limit: int = 60) -> str:
    """A received value as shown in a reason: its repr, clipped."""
    text = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _readable_ids(doc: dict[str, Any]) -> dict[str, Any]:
    ids: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        ids["event_id"] = UUID(str(doc.get("event_id")))
    for key in ("agent_id", "site"):
        value = doc.get(key)
        if isinstance(value, str) and 0 < len(value) <= 64:
            ids[key] = value
    seq = doc.get("seq")
    if isinstance(seq, int) and not isinstance(seq, bool) and 1 <= seq <= MAX_SEQ:
        ids["seq"] = seq
    return ids
