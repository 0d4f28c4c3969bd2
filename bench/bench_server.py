"""Daemon benchmarks (prints a table). Done so far: idle RSS and idle CPU of `digpy server`
with 1,000 schedules loaded. Not yet: schedule lateness p99, two daemons vs one.

    python3 bench/bench_server.py [--schedules 1000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def make_project(root: Path, count: int) -> Path:
    project = root / "many"
    project.mkdir()
    for i in range(count):
        (project / f"wf{i:04d}.dig").write_text(
            f"schedule:\n  daily>: {i % 24:02d}:{i % 60:02d}:00\n+a:\n  echo>: {i}\n")
    return project


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project = make_project(root, args.schedules)
        data = root / "data"
        subprocess.run([sys.executable, "-m", "digpy", "push", str(project), "--database",
                        f"sqlite:///{data / 'digpy.db'}"], check=True, capture_output=True)
        proc = subprocess.Popen([sys.executable, "-m", "digpy", "server", "--data-dir",
                                 str(data)], stderr=subprocess.DEVNULL)
        try:
            time.sleep(3)  # start-up and the first ticks
            cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.seconds)
            cpu = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0) * 100
            rss = rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    print(f"| metric ({args.schedules} schedules, SQLite) | value | budget |")
    print("|---|---|---|")
    print(f"| idle RSS | {rss:.0f} MB | <= 150 MB |")
    print(f"| idle CPU | {cpu:.2f} % | <= 2 % |")


if __name__ == "__main__":
    main()
