"""Is the process that wrote a `running` run still alive?

A run killed with SIGKILL (or by a power cut) never closes its row. Each run records who
wrote it: pid, host name, the kernel's boot id and the process's start time. A run is stale
when it was written on this host and its boot is over (the machine restarted) or its pid is
gone or now belongs to a process started at another time (pid reuse). Runs written by
other hosts (a database on a shared disk) are never judged from here.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessIdentity:
    pid: int
    host: str
    boot_id: str | None
    """Linux's per-boot random id; None elsewhere."""
    process_start: str | None
    """The process's start time in clock ticks since boot (Linux); None elsewhere."""


def current() -> ProcessIdentity:
    pid = os.getpid()
    return ProcessIdentity(pid, socket.gethostname(), _boot_id(), _process_start(pid))


def is_stale(writer: ProcessIdentity, here: ProcessIdentity | None = None) -> bool:
    here = here or current()
    if writer.host != here.host:
        return False
    if writer.boot_id and here.boot_id and writer.boot_id != here.boot_id:
        return True
    if writer.pid == here.pid:
        return False  # that is us
    if not _pid_alive(writer.pid):
        return True
    start = _process_start(writer.pid)
    return bool(writer.process_start and start and start != writer.process_start)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process holds that pid
    return _stat_fields(pid)[:1] != ["Z"]  # a zombie has exited; only its parent lingers


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _process_start(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[19] if len(fields) > 19 else None  # field 22, starttime


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat from field 3 (the state) on; empty where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # The command name (field 2) may hold spaces and parentheses: split after its end.
    return stat[stat.rfind(")") + 2 :].split()
