"""A big, consistent database for the API benchmark: products, a location tree, a year of
ledger, the stock projection, the inbox and the agents, all as the service would have them.

    .venv/bin/python -m bench.seed --url postgresql://postgres@127.0.0.1:5432/bench \\
        [--movements 1000000] [--products 50000] [--bins 180]

The schema is created with the service's own migrations; rows are written with PostgreSQL's
COPY. The projection is summed from the generated ledger, so `warehouse db check-projection`
finds nothing to report. Movements come from eight agents with contiguous seqs, each with its
inbox row, so the agents' acks are where the service would have left them.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
AGENTS = 8
SCALE = 10**6  # quantities are stored as millionths


def gtin13(n: int) -> str:
    """A GTIN-13 with a valid check digit under the GS1 example prefix 590123."""
    body = f"590123{n:06d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def seed(url: str, movements: int, products: int, bins: int, progress: bool = True) -> None:
    """Create the schema at ``url`` and fill it."""
    from warehouse.core.migrate import upgrade

    started = time.monotonic()

    def say(what: str) -> None:
        if progress:
            print(f"{time.monotonic() - started:6.1f}s  {what}", flush=True)

    upgrade(url)
    rng = random.Random(42)
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(url) as conn:
        virtual = dict(conn.execute("SELECT code, id FROM locations").fetchall())
        say("schema ready")
        # the location tree: two sites; zones of 18 bins; docks
        tree: list[tuple[str, str, str | None]] = [("WH1", "site", None), ("ST1", "site", None)]
        zones = max(1, bins // 18)
        for z in range(1, zones + 1):
            tree.append((f"WH1-Z{z:02d}", "zone", "WH1"))
            tree += [(f"WH1-Z{z:02d}-B{b:02d}", "bin", f"WH1-Z{z:02d}") for b in range(1, 19)]
        tree += [("WH1-DOCK-1", "dock", "WH1"), ("WH1-DOCK-2", "dock", "WH1")]
        tree += [(f"ST1-REG-{r}", "register", "ST1") for r in range(1, 5)]
        ids: dict[str, int] = {}
        paths: dict[str, str] = {}
        for code, kind, parent in tree:
            path = (paths[parent] if parent else "/") + code + "/"
            row = conn.execute(
                "INSERT INTO locations (code, name, kind, parent_id, path, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (code, code.replace("-", " "), kind, ids.get(parent or ""), path, now),
            ).fetchone()
            assert row is not None
            ids[code], paths[code] = row[0], path
        say(f"{len(tree)} locations")
        with conn.cursor().copy(
            "COPY products (sku, name, unit, tracking, negative_policy, active, created_at, "
            "updated_at) FROM STDIN"
        ) as copy:
            for n in range(products):
                copy.write_row((f"P{n:06d}", f"Product {n}", "ea", "none", "allow", True, now, now))
        product_ids = [r[0] for r in conn.execute("SELECT id FROM products ORDER BY sku")]
        with conn.cursor().copy("COPY product_codes (code, product_id, kind) FROM STDIN") as copy:
            for n, product_id in enumerate(product_ids):
                copy.write_row(("0" + gtin13(n), product_id, "gtin"))
        say(f"{products} products with GTINs")
        physical = [ids[c] for c, kind, _ in tree if kind in ("bin", "dock")]
        supplier, customer = virtual["SUPPLIER"], virtual["CUSTOMER"]
        balance: dict[tuple[int, int], int] = defaultdict(int)
        seqs = [0] * AGENTS
        start = now - timedelta(days=365)
        step = timedelta(days=365) / movements
        with (
            conn.cursor().copy(
                "COPY movements (kind, product_id, qty, from_location_id, to_location_id, lot, "
                "occurred_at, recorded_at, origin, event_id, agent_id, device, station, flags) "
                "FROM STDIN"
            ) as ledger,
            psycopg.connect(url) as inbox_conn,
            inbox_conn.cursor().copy(
                "COPY inbox (event_id, agent_id, site, seq, type, status, received_at) FROM STDIN"
            ) as inbox,
        ):
            for n in range(movements):
                product = product_ids[rng.randrange(products)]
                roll = rng.random()
                if roll < 0.35:
                    kind, source, destination = "receive", supplier, rng.choice(physical)
                elif roll < 0.8:
                    kind, source = "transfer", rng.choice(physical)
                    destination = rng.choice(physical)
                    if destination == source:
                        destination = physical[(physical.index(source) + 1) % len(physical)]
                else:
                    kind, source, destination = "ship", rng.choice(physical), customer
                qty = rng.randint(1, 24)
                at = start + step * n
                agent = n % AGENTS
                seqs[agent] += 1
                event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                flags = ""
                if source != supplier:
                    balance[(product, source)] -= qty
                    if balance[(product, source)] < 0:
                        flags = "negative_stock"
                if destination != customer:
                    balance[(product, destination)] += qty
                ledger.write_row(
                    (
                        kind,
                        product,
                        qty * SCALE,
                        source,
                        destination,
                        "",
                        at,
                        at,
                        "mqtt",
                        event_id,
                        f"seed-{agent}",
                        "scanner-1",
                        "seed",
                        flags,
                    )
                )
                inbox.write_row(
                    (event_id, f"seed-{agent}", "WH1", seqs[agent], "movement", "applied", at)
                )
                if progress and n and n % 200_000 == 0:
                    say(f"{n:,} movements")
        say(f"{movements:,} movements and their inbox rows")
        skus = dict(conn.execute("SELECT id, sku FROM products").fetchall())
        places = {ids[code]: (code, paths[code]) for code in ids}
        with conn.cursor().copy(
            "COPY stock (product_id, location_id, lot, on_hand, reserved, version, updated_at, "
            "sku, location_code, location_path) FROM STDIN"
        ) as copy:
            for (product, location), on_hand in balance.items():
                code, path = places[location]
                copy.write_row(
                    (product, location, "", on_hand * SCALE, 0, 1, now, skus[product], code, path)
                )
        for agent in range(AGENTS):
            conn.execute(
                "INSERT INTO agents (agent_id, site, first_seen, last_seen, boot, acked_seq, "
                "max_seq) VALUES (%s, 'WH1', %s, %s, 1, %s, %s)",
                (f"seed-{agent}", start, now, seqs[agent], seqs[agent]),
            )
        say(f"{len(balance):,} projection rows, {AGENTS} agents")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    say("analyzed; done")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--bins", type=int, default=180, help="bins, in zones of 18")
    args = parser.parse_args()
    seed(args.url, args.movements, args.products, args.bins)


if __name__ == "__main__":
    main()
