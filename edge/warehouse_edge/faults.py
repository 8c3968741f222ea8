"""Fault hooks for the fault suite (tests/faults), off unless ``WAREHOUSE_EDGE_FAULTS`` names
them; a production agent never sets it. Comma-separated ``name=value`` pairs:

- ``kill-after-write=N``: SIGKILL this process right after the outbox commits seq N, before the
  publisher has sent it and before the operator's beep (the gap a power cut can fall into);
- ``clock-offset-s=S``: stamp events S seconds off the real clock (a Pi whose clock is wrong).
"""

from __future__ import annotations

import logging
import os
import signal
from datetime import timedelta

log = logging.getLogger(__name__)


def _parse(spec: str) -> dict[str, float]:
    hooks: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        hooks[name.strip()] = float(value)
    return hooks


HOOKS = _parse(os.environ.get("WAREHOUSE_EDGE_FAULTS", ""))
CLOCK_OFFSET = timedelta(seconds=HOOKS.get("clock-offset-s", 0.0))
if HOOKS:
    log.warning("fault hooks are on (WAREHOUSE_EDGE_FAULTS): %s", HOOKS)


def after_commit(first_seq: int, last_seq: int) -> None:
    """Called by the outbox after each commit of seqs ``first_seq``..``last_seq``."""
    target = HOOKS.get("kill-after-write")
    if target is not None and first_seq <= target <= last_seq:
        log.warning("fault hook: SIGKILL after the outbox committed seq %d", int(target))
        os.kill(os.getpid(), signal.SIGKILL)
