"""What the CLI's start-up leaves out, and that leaving it out changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import python_stderr

SHIPPED = Path(__file__).resolve().parents[2] / "providers.yaml"


def _after_config_check(then: str, env: dict[str, str] | None = None) -> list[str]:
    """`config check` on the shipped registry in a fresh interpreter, then the statements
    `then`, which set `report` (a tuple): the exit code and report's items, as text."""
    Path("providers.yaml").write_text(SHIPPED.read_text(encoding="utf-8"))
    script = (
        "import sys; from modelaudit.cli.main import main; "
        f"code = main(['config', 'check']); {then}; "
        "print(code, *report, sep='\\t', file=sys.stderr)"
    )
    return python_stderr(script, env=env)[-1].split("\t")


def test_config_check_imports_no_package_metadata(isolated_env: Path) -> None:
    # importlib.metadata drags in email, zipfile and csv (~20 ms): pydantic's plugin
    # loader imports it, and with plugins disabled never calls it.
    then = (
        "heavy = ('email', 'zipfile', 'csv', 'importlib.metadata._meta'); "
        "report = (sorted(m for m in heavy if m in sys.modules),)"
    )
    assert _after_config_check(then) == ["0", "[]"]


def test_package_metadata_still_answers_after_start_up(isolated_env: Path) -> None:
    then = (
        "import importlib.metadata as meta; "
        "from importlib.metadata import entry_points, version; "
        "import pydantic; "
        "scripts = {e.name for e in entry_points(group='console_scripts')}; "
        "report = (version('pydantic') == pydantic.VERSION, 'modelaudit' in scripts, "
        "meta.version('pyyaml') != '', type(sys.modules['importlib.metadata']).__name__)"
    )
    assert _after_config_check(then) == ["0", "True", "True", "True", "module"]


@pytest.mark.parametrize("setting", ["", "some-plugin-not-installed"])
def test_pydantic_plugins_still_load_when_the_user_enables_them(
    setting: str, isolated_env: Path
) -> None:
    # Enabled plugins make pydantic call entry_points(): through the deferred module, the
    # real scan runs, and the command works as before.
    then = "report = ('email' in sys.modules,)"
    assert _after_config_check(then, {"PYDANTIC_DISABLE_PLUGINS": setting}) == ["0", "True"]
