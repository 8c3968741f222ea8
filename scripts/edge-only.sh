#!/usr/bin/env bash
# The edge agent must install and run with only the `edge` extra: no FastAPI, SQLAlchemy or
# uvicorn. Builds a throwaway virtual environment, checks the imports, the example configs and a
# simulated run against the local Mosquitto.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)/edge-venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet ".[edge]"
"$venv/bin/python" - <<'PY'
import importlib.util, sys
present = [m for m in ("fastapi", "sqlalchemy", "uvicorn", "starlette", "alembic", "psycopg")
           if importlib.util.find_spec(m)]
if present:
    sys.exit(f"the edge extra installed server packages: {present}")
import warehouse_edge.agent, warehouse_edge.cli  # noqa: F401  everything the agent runs
PY
for config in deploy/raspberrypi/*.toml; do "$venv/bin/warehouse-edge" check-config --config "$config"; done
work=$(dirname "$venv")
cat > "$work/agent.toml" <<TOML
agent_id = "edge-only-check"
site = "CI$$"
[broker]
url = "mqtt://127.0.0.1:1883"
[outbox]
path = "$work/outbox.db"
[[stations]]
name = "lookup"
mode = "lookup"
location = "WH1"
[[devices]]
name = "scanner-1"
driver = "virtual"
station = "lookup"
TOML
printf '0.1 scanner-1 5901230001001\n0.1 scanner-1 ]C1010590123000100110L1\n' > "$work/script.txt"
"$venv/bin/warehouse-edge" simulate --config "$work/agent.toml" --script "$work/script.txt" --linger 1
"$venv/bin/warehouse-edge" outbox --config "$work/agent.toml"
echo "edge-only install: OK"
