"""MQTT messages to use-case inputs: an ``events`` payload decoded by the contract into a
FloorEvent (or an UndecodableEvent that keeps whatever ids it still says), a retained status
into an AgentStatus."""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime
from typing import Any

from warehouse import contracts
from warehouse.floor.events import (
    DrawerRequest,
    FloorEvent,
    ObservationRequest,
    SaleLineRequest,
    SaleRequest,
    ScanRequest,
    SessionRequest,
)
from warehouse.ingest.service.commands import AgentStatus, UndecodableEvent
from warehouse.pricing import TenderInput
from warehouse.stock.service.commands import MovementRequest

log = logging.getLogger(__name__)


def body_hash(payload: bytes) -> str:
    """What tells a re-send (same bytes) from a conflicting body under the same event id."""
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def translate(topic: str, payload: bytes, max_bytes: int) -> FloorEvent | UndecodableEvent:
    """Decode an ``events`` payload into a use-case input; a refusal becomes an UndecodableEvent
    that keeps whatever ids the envelope, or else the topic, still says."""
    digest = body_hash(payload)
    try:
        event = contracts.decode_event(payload, max_bytes=max_bytes)
    except contracts.ContractError as exc:
        return _refused(topic, payload, exc, digest)
    parsed = contracts.parse_topic(topic)
    if parsed is None or (parsed.site, parsed.agent_id) != (event.site, event.agent_id):
        return _topic_mismatch(topic, payload, event, parsed, digest)
    return FloorEvent(
        event_id=str(event.event_id),
        agent_id=event.agent_id,
        site=event.site,
        seq=event.seq,
        boot=event.boot,
        occurred_at=event.occurred_at,
        type=event.type,
        device=event.device,
        station=event.station,
        payload=payload,
        payload_hash=digest,
        **_request(event),
    )


def _request(event: contracts.Event) -> dict[str, Any]:
    """The use-case input an event carries, under the FloorEvent field it goes in."""
    if isinstance(event, contracts.MovementEvent):
        d = event.data
        movement = MovementRequest(
            kind=d.kind,
            qty=d.qty,
            code=d.code,
            sku=d.sku,
            gtin=d.gtin,
            lot=d.lot,
            serial=d.serial,
            expiry=d.expiry,
            epc=d.epc,
            from_location=d.from_location,
            to_location=d.to_location,
            order_ref=d.order_ref,
        )
        return {"movement": movement}
    if isinstance(event, contracts.ObservationEvent):
        return {"observation": _observation(event.data)}
    if isinstance(event, contracts.HeartbeatEvent):
        return {"heartbeat": event.data.model_dump(mode="json")}
    if isinstance(event, contracts.ScanEvent):
        s = event.data
        return {
            "scan": ScanRequest(s.code, s.gtin, s.lot, s.serial, s.epc, s.location, s.order_ref)
        }
    if isinstance(event, contracts.SaleEvent):
        return {"sale": sale_request(event.data, event.occurred_at)}
    if isinstance(event, contracts.SessionEvent):
        x = event.data
        cashier = x.cashier or "register"
        return {
            "session": SessionRequest(
                x.action, x.register_code, x.session_no, cashier, x.float_minor, x.counted_minor
            )
        }
    if isinstance(event, contracts.DrawerEvent):
        w = event.data
        return {
            "drawer": DrawerRequest(
                w.kind,
                w.register_code,
                w.session_no,
                w.amount_minor,
                w.cashier or "register",
                w.reason,
            )
        }
    return {}


def _refused(
    topic: str, payload: bytes, exc: contracts.ContractError, digest: str
) -> UndecodableEvent:
    """A payload the contract refused, booked to the agent and site of its topic (the broker
    checked who may publish there; the body's claims are the publisher's word), with the event
    id and seq the envelope still says; a topic outside the contract names no agent."""
    parsed = contracts.parse_topic(topic)
    if parsed is None:
        return UndecodableEvent(topic, payload, exc.reason, exc.detail, payload_hash=digest)
    return UndecodableEvent(
        topic,
        payload,
        exc.reason,
        exc.detail,
        str(exc.event_id) if exc.event_id else None,
        parsed.agent_id,
        parsed.site,
        exc.seq,
        digest,
    )


def _topic_mismatch(
    topic: str, payload: bytes, event: contracts.Event, parsed: contracts.Topic | None, digest: str
) -> UndecodableEvent:
    """An event whose body names another agent or site than its topic: rejected, and booked to
    the topic's agent (its seq counts as that agent's); the agent the body names is untouched."""
    shown = topic if len(topic) <= 120 else topic[:117] + "..."
    return UndecodableEvent(
        topic,
        payload,
        "topic_mismatch",
        f"envelope says site {event.site!r} agent {event.agent_id!r}; topic is {shown!r}",
        str(event.event_id),
        parsed.agent_id if parsed else None,
        parsed.site if parsed else None,
        event.seq if parsed else None,
        digest,
    )


def _observation(o: contracts.ObservationData) -> ObservationRequest:
    """RFID presence as the observation use case takes it: EPCs only."""
    return ObservationRequest(
        zone=o.zone,
        location=o.location,
        arrivals=tuple(t.epc for t in o.arrivals),
        departures=tuple(t.epc for t in o.departures),
        snapshot=tuple(t.epc for t in o.snapshot) if o.snapshot is not None else None,
    )


def sale_request(d: contracts.SaleData, occurred_at: datetime) -> SaleRequest:
    """A register's basket as the sale use case takes it."""
    return SaleRequest(
        sale_id=d.sale_id,
        register=d.register_code,
        lines=[
            SaleLineRequest(
                qty=x.qty,
                sku=x.sku,
                code=x.code,
                unit_price_override_minor=x.unit_price_override_minor,
                embedded_price_minor=x.embedded_price_minor,
                discount_percent=x.discount_percent,
                discount_amount_minor=x.discount_amount_minor,
                reported_unit_price_minor=x.unit_price_minor,
                reported_discount_minor=x.discount_minor,
                lot=x.lot,
                serial=x.serial,
            )
            for x in d.lines
        ],
        tenders=[TenderInput(t.kind, t.amount_minor, t.reference) for t in d.tenders],
        cashier=d.cashier or "register",
        basket_discount_percent=d.basket_discount_percent,
        basket_discount_amount_minor=d.basket_discount_amount_minor,
        occurred_at=occurred_at,
        receipt_no=d.receipt_no,
        reported_total_minor=d.total_minor,
        change_minor=d.change_minor,
        rounding_minor=d.rounding_minor,
        currency=d.currency,
        session_no=d.session_no,
    )


def stored_event(payload: bytes) -> FloorEvent | None:
    """An event kept in the inbox, decoded again (to re-apply it once what it lacked exists,
    e.g. a code linked to a product from the exceptions queue); None if it never decoded."""
    try:
        event = contracts.decode_event(payload, max_bytes=len(payload) + 1)
    except contracts.ContractError:
        return None
    topic = contracts.topic(event.site, event.agent_id, "events")
    item = translate(topic, payload, len(payload) + 1)
    return item if isinstance(item, FloorEvent) else None


def translate_status(topic: str, payload: bytes) -> AgentStatus | None:
    """An agent's retained status, or None (logged) if it is not one the contract knows."""
    parsed = contracts.parse_topic(topic)
    if parsed is None:
        log.info("ignored status on a topic outside the contract: %.120s", topic)
        return None
    try:
        status = contracts.decode(contracts.Status, payload)
    except contracts.ContractError as exc:
        log.info("ignored status on %s: %s", topic, exc)
        return None
    if parsed.agent_id != status.agent_id:
        log.info("ignored status on %s: it names agent %r", topic, status.agent_id)
        return None
    return AgentStatus(status.agent_id, parsed.site, status.state)


def internal_error(topic: str, payload: bytes, exc: Exception) -> UndecodableEvent:
    error_id = uuid.uuid4().hex[:12]
    log.exception("internal error %s decoding a message on %.120s", error_id, topic)
    parsed = contracts.parse_topic(topic)
    return UndecodableEvent(
        topic,
        payload,
        "internal_error",
        f"{type(exc).__name__}: {str(exc)[:300]} (error id {error_id})",
        agent_id=parsed.agent_id if parsed else None,
        site=parsed.site if parsed else None,
        payload_hash=body_hash(payload),
    )
