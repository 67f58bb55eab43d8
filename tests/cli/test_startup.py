"""What the CLI's start-up leaves out, and that leaving it out changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SHIPPED = Path(__file__).resolve().parents[2] / "providers.yaml"


def _python(script: str, env_extra: dict[str, str] | None = None) -> list[str]:
    """Run `script` in a fresh interpreter; its last stderr line, split on tabs."""
    import os

    env = {**os.environ, **(env_extra or {})}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    return done.stderr.splitlines()[-1].split("\t")


def test_config_check_imports_no_package_metadata(isolated_env: Path) -> None:
    # importlib.metadata drags in email, zipfile and csv (~20 ms): pydantic's plugin
    # loader imports it, and with plugins disabled never calls it.
    (isolated_env / "providers.yaml").write_text(SHIPPED.read_text(encoding="utf-8"))
    script = (
        "import sys; from modelaudit.cli.main import main; "
        "code = main(['config', 'check']); "
        "loaded = sorted(m for m in ('email', 'zipfile', 'csv', 'importlib.metadata._meta') "
        "if m in sys.modules); "
        "print(code, loaded, sep='\\t', file=sys.stderr)"
    )
    assert _python(script) == ["0", "[]"]


def test_package_metadata_still_answers_after_start_up(isolated_env: Path) -> None:
    (isolated_env / "providers.yaml").write_text(SHIPPED.read_text(encoding="utf-8"))
    script = (
        "import sys; from modelaudit.cli.main import main; "
        "assert main(['config', 'check']) == 0; "
        "import importlib.metadata as meta; "
        "from importlib.metadata import entry_points, version; "
        "import pydantic; "
        "scripts = {e.name for e in entry_points(group='console_scripts')}; "
        "real = type(sys.modules['importlib.metadata']).__name__; "
        "print(version('pydantic') == pydantic.VERSION, 'modelaudit' in scripts, "
        "meta.version('pyyaml') != '', real, sep='\\t', file=sys.stderr)"
    )
    assert _python(script) == ["True", "True", "True", "module"]


@pytest.mark.parametrize("setting", ["", "some-plugin-not-installed"])
def test_pydantic_plugins_still_load_when_the_user_enables_them(
    setting: str, isolated_env: Path
) -> None:
    # Enabled plugins make pydantic call entry_points(): through the deferred module, the
    # real scan runs, and the command works as before.
    (isolated_env / "providers.yaml").write_text(SHIPPED.read_text(encoding="utf-8"))
    script = (
        "import sys; from modelaudit.cli.main import main; "
        "code = main(['config', 'check']); "
        "print(code, 'email' in sys.modules, sep='\\t', file=sys.stderr)"
    )
    assert _python(script, {"PYDANTIC_DISABLE_PLUGINS": setting}) == ["0", "True"]
