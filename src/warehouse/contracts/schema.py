"""JSON Schema for contract v1, generated from the models into ``docs/contract/``.

Run ``python -m warehouse.contracts.schema [DIR]`` after changing a model; a test fails when the
committed schema files differ from what the models generate.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from warehouse.contracts.messages import Ack, Command, Event, Status

#: What the decoder enforces beyond what JSON Schema can say.
RULES = (
    "Beyond this schema the service refuses: payloads over 256 KiB (payload_too_large); JSON "
    "nested deeper than 200 levels (too_deep); a NUL character (\\u0000) in any string "
    "(invalid_message); times before 1970-01-01 or from 2100-01-01 (UTC) (invalid_message). "
    "Unknown fields are ignored."
)

SCHEMA_FILES: dict[str, Any] = {
    "event.schema.json": Event,
    "ack.schema.json": Ack,
    "status.schema.json": Status,
    "command.schema.json": Command,
}


def generate() -> dict[str, str]:
    """Return the text of every schema file, keyed by file name."""
    out = {}
    for name, model in SCHEMA_FILES.items():
        schema = TypeAdapter(model).json_schema(mode="validation")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://warehouse.invalid/contract/v1/{name}",
            "description": RULES,
            **schema,
        }
        out[name] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out


def write(directory: Path) -> list[Path]:
    """Write the schema files into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in generate().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":  # pragma: no cover - developer tool
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/contract")
    for written in write(target):
        print(written)
