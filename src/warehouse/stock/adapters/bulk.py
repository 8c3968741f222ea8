"""PostgreSQL bulk statements of the ledger, the projection and serialized units: a whole batch
as one JSON parameter (``jsonb_to_recordset``).

A multi-row ``VALUES`` list is a different, long SQL text for every batch size: SQLAlchemy
compiles it and psycopg re-parses it each time (measured: ~100 ms per 500-row batch). Arrays per
column (``unnest``) fix that but psycopg adapts every element in Python (~40 µs per row). One JSON
document per batch is built by the C encoder and parsed by PostgreSQL: these statements have
constant text, are prepared once, and a batch of 500 rows costs one round trip. (The inbox's
claim, the same way, is in ``ingest/adapters/inbox.py``.)"""

from __future__ import annotations

from sqlalchemy import text

LEDGER = text("""
    INSERT INTO movements (kind, product_id, qty, from_location_id, to_location_id, lot, serial,
        epc, expiry, code, order_ref, occurred_at, recorded_at, origin, event_id, agent_id,
        device, station, actor, flags)
    SELECT r.kind, r.product_id, r.qty, r.from_location_id, r.to_location_id, r.lot, r.serial,
           r.epc, r.expiry, r.code, r.order_ref, r.occurred_at, r.recorded_at, r.origin,
           r.event_id, r.agent_id, r.device, r.station, r.actor, r.flags
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        kind varchar, product_id bigint, qty bigint, from_location_id bigint,
        to_location_id bigint, lot varchar, serial varchar, epc varchar, expiry date,
        code varchar, order_ref varchar, occurred_at timestamptz, recorded_at timestamptz,
        origin varchar, event_id varchar, agent_id varchar, device varchar, station varchar,
        actor varchar, flags varchar, n bigint)
    ORDER BY r.n
    RETURNING id
""")  # ids are drawn in ORDER BY order, so the sorted ids match the rows in order


BALANCES = text("""
    SELECT s.product_id, s.location_id, s.lot, s.on_hand
    FROM stock AS s
    JOIN jsonb_to_recordset(CAST(:keys AS jsonb)) AS k(product_id bigint, location_id bigint,
                                                      lot varchar)
      ON s.product_id = k.product_id AND s.location_id = k.location_id AND s.lot = k.lot
    ORDER BY s.product_id, s.location_id, s.lot
    FOR UPDATE OF s
""")


APPLY = text("""
    INSERT INTO stock (product_id, location_id, lot, on_hand, reserved, version, updated_at,
                       sku, location_code, location_path)
    SELECT k.product_id, k.location_id, k.lot, k.delta, 0, 1, CAST(:at AS timestamptz),
           p.sku, l.code, l.path
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS k(product_id bigint, location_id bigint,
                                                      lot varchar, delta bigint)
    JOIN products AS p ON p.id = k.product_id
    JOIN locations AS l ON l.id = k.location_id
    ORDER BY k.product_id, k.location_id, k.lot
    ON CONFLICT (product_id, location_id, lot) DO UPDATE
    SET on_hand = stock.on_hand + excluded.on_hand,
        version = stock.version + 1,
        updated_at = excluded.updated_at
""")


UNITS_FIND = text("""
    SELECT u.id, u.product_id, u.serial, u.epc, u.location_id, u.lot, u.ledger_location_id
    FROM serial_units AS u
    JOIN json_to_recordset(CAST(:serials AS json)) AS k(product_id bigint, serial varchar)
      ON u.product_id = k.product_id AND u.serial = k.serial
    UNION
    SELECT u.id, u.product_id, u.serial, u.epc, u.location_id, u.lot, u.ledger_location_id
    FROM serial_units AS u
    WHERE u.epc IN (SELECT value FROM json_array_elements_text(CAST(:epcs AS json)))
""")


UNITS_UPDATE = text("""
    UPDATE serial_units AS u
    SET serial = r.serial, epc = r.epc, lot = r.lot, location_id = r.location_id,
        ledger_location_id = r.ledger_location_id, updated_at = CAST(:at AS timestamptz)
    FROM json_to_recordset(CAST(:rows AS json)) AS r(
        id bigint, serial varchar, epc varchar, lot varchar, location_id bigint,
        ledger_location_id bigint)
    WHERE u.id = r.id
""")


# a unit another worker inserted meanwhile keeps its row: the next movement of it places it
UNITS_INSERT = text("""
    INSERT INTO serial_units (product_id, serial, epc, lot, location_id, ledger_location_id,
                              updated_at)
    SELECT r.product_id, r.serial, r.epc, r.lot, r.location_id, r.ledger_location_id,
           CAST(:at AS timestamptz)
    FROM json_to_recordset(CAST(:rows AS json)) AS r(
        product_id bigint, serial varchar, epc varchar, lot varchar, location_id bigint,
        ledger_location_id bigint)
    ON CONFLICT DO NOTHING
""")
