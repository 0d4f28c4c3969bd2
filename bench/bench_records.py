"""What the R2 process record costs per command (digpy.spi.records): recording a started
command and clearing it when it ends, as ``run_command`` does, against the previous way —
one new JSON file per command, created before the wait and unlinked after.

    python3 bench/bench_records.py

Both run in one process on the same directory (a temporary one; ``TMPDIR`` picks the file
system), alternating rounds of CALLS commands, so machine noise hits both alike; prints the
median microseconds per command. The recorded pid is this process (its ``/proc`` read is
part of both).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _table import print_table

from digpy.spi.records import HOST, process_start_time, record_process, set_process_records

CALLS = 2000
ROUNDS = 7


def slots(directory: Path) -> float:
    """Seconds per command: one slot written and cleared in this driver's record file."""
    pid = os.getpid()
    start = time.perf_counter()
    for task in range(CALLS):
        slot = record_process(1, task, pid)
        assert slot is not None
        slot.release()
    return (time.perf_counter() - start) / CALLS


def files(directory: Path) -> float:
    """Seconds per command the previous way: a new file written, then unlinked."""
    pid = os.getpid()
    owner_started = process_start_time(pid)
    start = time.perf_counter()
    for task in range(CALLS):
        path = directory / f"1.{task}.{pid}.json"
        data = json.dumps({"pid": pid, "started": process_start_time(pid), "pgid": pid,
                           "host": HOST, "attempt_id": 1, "task_id": task, "owner": pid,
                           "owner_started": owner_started}).encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        path.unlink()
    return (time.perf_counter() - start) / CALLS


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="digpy-records-") as tmp:
        directory = Path(tmp)
        previous = set_process_records(directory)
        try:
            samples: dict[str, list[float]] = {"slots": [], "files": []}
            for _ in range(ROUNDS):
                samples["slots"].append(slots(directory))
                samples["files"].append(files(directory))
        finally:
            set_process_records(previous)
    rows = [[what, f"{statistics.median(s) * 1e6:.1f} µs",
             f"{min(s) * 1e6:.1f}-{max(s) * 1e6:.1f} µs"]
            for what, s in (("slot in one file (now)", samples["slots"]),
                            ("a file per command (before)", samples["files"]))]
    print_table(rows, ["record + clear per command", "median", "spread"])


if __name__ == "__main__":
    main()
