"""The emulator as its own process for the Python benchmarks (its CPU is not the client's)."""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def emulator(binary: Path, *args: str) -> Iterator[dict[str, str]]:
    """Starts ``binary --journal 0 *args`` and yields its startup line (``base_url``, ``accounts_url``)."""
    proc = subprocess.Popen([str(binary), "--journal", "0", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        yield json.loads(proc.stdout.readline())
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # the emulator stops when its stdin closes
        proc.wait()
