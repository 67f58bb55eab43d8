"""The loopback guard in a `modelaudit` subprocess a test starts (see `tests/netguard.py`).

The test suite puts this directory on PYTHONPATH and names a log file in
MODELAUDIT_TEST_NETGUARD; Python imports this module at start-up. It guards modelaudit's own
processes only (third-party servers the suite runs are left alone): any attempt to connect
to, or resolve, a host beyond loopback is written to the log (the test that started the
process then fails) and refused.
"""

from __future__ import annotations

import os
import sys


def _install() -> None:
    log = os.environ.get("MODELAUDIT_TEST_NETGUARD")
    argv = [*getattr(sys, "orig_argv", sys.argv), "", ""]
    ours = argv[1:3] == ["-m", "modelaudit"] or os.path.basename(argv[1]) == "modelaudit"
    if not log or not ours:
        return
    import importlib.util

    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location(
        "_modelaudit_netguard", os.path.join(tests_dir, "netguard.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.install(log)


_install()
