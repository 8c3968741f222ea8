"""What a long-running process does once it has started."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Leave what start-up built (modules, SQLAlchemy metadata, the app) out of the cyclic
    collector's sweeps. Without this a full collection walked all of it a few times a second
    under load, each a 60 ms stop of the API's event loop, which was its p99
    (docs/performance.md). For processes that own their service: not for apps inside tests or
    the demo, which build many and would keep them all."""
    gc.collect()
    gc.freeze()
