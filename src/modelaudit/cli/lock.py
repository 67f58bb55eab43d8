"""`modelaudit lock`: resolve every pinned model and write modelaudit.lock."""

from __future__ import annotations

from modelaudit.cli import console
from modelaudit.cli.options import ConfigOption, LockOption


def lock(config: ConfigOption = None, lock: LockOption = None) -> int:
    """Resolve each pinned model (catalog and one cheap completion) and write the lockfile.

    The lockfile is written only when every pin resolved. Exit 0 written, 1 a pin is gone,
    2 bad usage or config, 3 some pin could not be resolved (nothing written).
    """
    from modelaudit import registry
    from modelaudit.cli.check import progress
    from modelaudit.gate import lockfile
    from modelaudit.gate import run as gate
    from modelaudit.gate.formats.base import LABELS

    loaded = registry.load(registry.discover(config))
    lock_path = lock or lockfile.default_path(loaded.path)
    report = gate.lock(loaded, lock_path, progress())
    width = max(len(r.pin.ref) for r in report.resolutions)
    for resolution in report.resolutions:
        label = LABELS[resolution.severity]
        console.plain(f"  {label:<8} {resolution.pin.ref:<{width}}  {resolution.message}")
    if report.written:
        count = len(report.resolutions)
        console.info(f"wrote {report.lock_label}: {count} pinned model{'s' if count != 1 else ''}")
    else:
        console.error(f"{report.lock_label} not written: every pinned model must resolve first")
    return report.exit_code
