"""Write a report file atomically: a temporary file beside it, then a rename, so a reader
(a web server, a mail job) never sees half a report, and a crash leaves the old one."""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import TYPE_CHECKING

from modelaudit.errors import UsageError
from modelaudit.redact import redact

if TYPE_CHECKING:
    from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Redact `text`, write it to `path` through a temporary file and a rename.

    Missing parent directories are created (a cron line writing into a dated folder).
    """
    data = redact(text).encode("utf-8")
    if path.is_dir():
        raise UsageError(f"-o {path}: is a directory; name a file, e.g. {path}/report.html")
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # os.open with 0o666 lets the umask decide the permissions, as for any new file.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
