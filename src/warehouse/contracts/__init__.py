"""MQTT wire contract v1: topics, the envelope, message models and the codec.

Imports the standard library and pydantic only, so the edge agent and third-party tools can
use it without the service's dependencies.
"""

from warehouse.contracts.base import (
    CONTRACT_VERSION,
    MovementKind,
)
from warehouse.contracts.codec import (
    DEFAULT_MAX_PAYLOAD,
    ContractError,
    decode,
    decode_event,
    describe_errors,
    encode,
    encode_feedback,
)
from warehouse.contracts.messages import (
    EVENT_TYPES,
    Ack,
    Command,
    DrawerEvent,
    Event,
    FeedbackCommand,
    HeartbeatData,
    HeartbeatEvent,
    MovementData,
    MovementEvent,
    ObservationData,
    ObservationEvent,
    PriceBookCommand,
    ResyncCommand,
    SaleEvent,
    ScanData,
    ScanEvent,
    SessionEvent,
    StationModeCommand,
    Status,
    TagSeen,
)
from warehouse.contracts.register import (
    DrawerData,
    SaleData,
    SaleLine,
    SessionData,
    Tender,
)
from warehouse.contracts.topics import EVENTS_SUBSCRIPTION, ID_PATTERN, Topic, parse_topic, topic

__all__ = [
    "CONTRACT_VERSION",
    "DEFAULT_MAX_PAYLOAD",
    "EVENTS_SUBSCRIPTION",
    "EVENT_TYPES",
    "ID_PATTERN",
    "Ack",
    "Command",
    "ContractError",
    "DrawerData",
    "DrawerEvent",
    "Event",
    "FeedbackCommand",
    "HeartbeatData",
    "HeartbeatEvent",
    "MovementData",
    "MovementEvent",
    "MovementKind",
    "ObservationData",
    "ObservationEvent",
    "PriceBookCommand",
    "ResyncCommand",
    "SaleData",
    "SaleEvent",
    "SaleLine",
    "ScanData",
    "ScanEvent",
    "SessionData",
    "SessionEvent",
    "StationModeCommand",
    "Status",
    "TagSeen",
    "Tender",
    "Topic",
    "decode",
    "decode_event",
    "describe_errors",
    "encode",
    "encode_feedback",
    "parse_topic",
    "topic",
]
