"""The agent loads biip's 16 MB of prefix tables on its first GS1 decode, not at start-up."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(code: str) -> bool:
    script = f"import sys\n{code}\nprint('biip' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def test_starting_an_agent_does_not_load_biip() -> None:
    assert not _loaded_after("import warehouse_edge.cli, warehouse_edge.agent")


def test_the_first_gs1_decode_loads_it() -> None:
    decode = "from warehouse_drivers import decode_barcode\ndecode_barcode(']E05901234123457')"
    assert _loaded_after(decode)
