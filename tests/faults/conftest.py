"""The fault suite's fixtures: a migrated, seeded template database, and one run of every
selected fault, side by side (each fault has its own broker, database and processes)."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.conftest import CI, PG_URL, RUN_ID, require
from tests.faults.processes import REPO, Database, seeded_database
from tests.faults.rig import Verdict

#: faults that run at once, each a handful of processes: four keep two cores about 65 % busy
PARALLEL = int(os.environ.get("WAREHOUSE_FAULTS_PARALLEL", "4"))
#: where the last run's figures go (docs/reliability.md quotes them)
FIGURES = REPO / "artifacts" / "faults.json"

Scenario = Callable[[Path, str], Verdict]
SCENARIOS: dict[str, Scenario] = {}
RESULTS: dict[str, Verdict | BaseException] = {}
TIMES: dict[str, float] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(func: Scenario) -> Scenario:
        SCENARIOS[name] = func
        return func

    return register


@pytest.fixture(scope="session")
def faults_template() -> Iterator[str]:
    """A database migrated and seeded with the demo catalog, copied for every fault."""
    require("mosquitto", shutil.which("mosquitto") is not None, "the mosquitto binary is missing")
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        require("PostgreSQL", False, str(exc).strip())
    name = f"warehouse_faults_{RUN_ID}"
    seeded_database(PG_URL, name)
    yield name
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_one(name: str, workdir: Path, template: str) -> Verdict:
    database = Database(PG_URL, template, f"{template}_{uuid.uuid4().hex[:8]}")
    started = time.monotonic()
    try:
        return SCENARIOS[name](workdir, database.url)
    finally:
        TIMES[name] = time.monotonic() - started
        database.close()


@pytest.fixture(scope="session")
def fault_results(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, faults_template: str
) -> dict[str, Verdict | BaseException]:
    selected = [
        item.callspec.params["fault"]
        for item in request.session.items
        if hasattr(item, "callspec") and "fault" in item.callspec.params
    ]
    with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="fault") as pool:
        futures = {
            name: pool.submit(run_one, name, tmp_path_factory.mktemp(name), faults_template)
            for name in dict.fromkeys(selected)
        }
        for name, future in futures.items():
            error = future.exception()
            RESULTS[name] = error if error is not None else future.result()
    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(json.dumps(figures(), indent=2) + "\n")
    return RESULTS


def figures() -> dict[str, dict[str, object]]:
    return {
        name: {
            "accepted": result.accepted,
            "ledger": result.ledger,
            "lost": len(result.lost),
            "doubled": result.doubled,
            "first_ack_s": result.first_ack_s,
            "drained_s": result.drained_s,
            "run_s": round(TIMES.get(name, 0.0), 1),
            **result.notes,
        }
        for name, result in RESULTS.items()
        if isinstance(result, Verdict)
    }


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("faults: recovery (fault cleared -> first ack, -> backlog acked)")
    write(
        f"{'fault':<34} {'accepted':>8} {'ledger':>7} {'lost':>5} {'doubled':>7} "
        f"{'first ack':>9} {'backlog':>8} {'run':>6}"
    )
    for name, result in RESULTS.items():
        if not isinstance(result, Verdict):
            write(f"{name:<34} failed: {str(result).splitlines()[0][:80]}")
            continue

        def secs(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}s"

        write(
            f"{name:<34} {result.accepted:>8} {result.ledger:>7} {len(result.lost):>5} "
            f"{result.doubled:>7} {secs(result.first_ack_s):>9} {secs(result.drained_s):>8} "
            f"{TIMES.get(name, 0):>5.0f}s"
        )
    if CI:
        write(f"figures: {FIGURES}")
