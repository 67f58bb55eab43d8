"""Run the real `modelaudit` command in a process of its own and measure it: exit code,
output, peak memory (from the kernel, `wait4`) and CPU time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MEMORY_LIMIT_MB = 300.0
"""No input from a server or a file may take a modelaudit process past this."""


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float
    cpu_s: float
    wall_s: float

    def document(self) -> dict[str, Any]:
        """stdout as strict JSON (no NaN, no Infinity), or the test fails showing it."""
        try:
            parsed = json.loads(self.stdout, parse_constant=_refuse)
        except ValueError as exc:
            raise AssertionError(f"stdout is not JSON: {exc}\n{self}") from None
        assert isinstance(parsed, dict)
        return parsed

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line, parse_constant=_refuse) for line in self.stdout.splitlines()]

    def __str__(self) -> str:
        return (
            f"exit {self.returncode}, {self.peak_mb:.0f} MB, {self.cpu_s:.1f} s CPU, "
            f"{self.wall_s:.1f} s\n--- stdout\n{self.stdout[-3000:]}\n"
            f"--- stderr\n{self.stderr[-3000:]}"
        )


def _refuse(constant: str) -> object:
    raise ValueError(f"{constant} is not JSON")


# A process's peak memory counts its life before `exec` too, when it shares the memory of
# the process that forked it (a test holding 16 MiB replies): modelaudit is started from
# this small program instead, which then reports the kernel's figures for it.
_MEASURE = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "modelaudit", *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    json.dump([os.waitstatus_to_exitcode(status), usage.ru_maxrss,
               usage.ru_utime + usage.ru_stime], report)
"""


def modelaudit(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout_s: float = 120.0
) -> Measured:
    """`python -m modelaudit ARGS`, measured."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        figures = Path(scratch) / "figures.json"
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", _MEASURE, str(figures), *args],
            cwd=cwd,
            env=env if env is not None else dict(os.environ),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
        wall = time.perf_counter() - started
        code, peak_kib, cpu_s = json.loads(figures.read_text()) if figures.exists() else (-9, 0, 0)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=code,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            peak_mb=peak_kib / 1024,
            cpu_s=cpu_s,
            wall_s=wall,
        )
