"""The integrations as a user drops them in: the documented GitHub workflow, the composite
action's check step and the pre-commit hook, each run as written (their own YAML is read
and executed with bash) against a loopback fake whose catalog changes between runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.fakes.base import Model
from tests.fakes.http import silent_port
from tests.fakes.openai import FakeOpenAI
from tests.gate.loopback import KEY, PIN_LINE, PINNED, SERVED_AS, write_gate_registry
from tests.gate.registries import COMMENTED, write

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "github-workflow.yml"
ACTION = ROOT / "action.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
DOCS = (ROOT / "README.md", ROOT / "docs" / "ci-gate.md")
SECRET = re.compile(r"^\$\{\{\s*secrets\.(\w+)\s*\}\}$")


def step_named(document: dict[str, Any], name: str) -> dict[str, Any]:
    steps = (
        document["runs"]["steps"]
        if "runs" in document
        else [s for job in document["jobs"].values() for s in job["steps"]]
    )
    return next(s for s in steps if s.get("name") == name)


def runner_env(repo: Path, step_env: dict[str, str], secrets: dict[str, str]) -> dict[str, str]:
    """What a GitHub runner gives a `run:` step: the step's env with secrets filled in (an
    unset secret is an empty string), GITHUB_* files, and the tool on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    for name, value in step_env.items():
        secret = SECRET.match(str(value))
        env[name] = secrets.get(secret[1], "") if secret else str(value)
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        GITHUB_ACTIONS="true",
        GITHUB_WORKSPACE=str(repo),
        GITHUB_STEP_SUMMARY=str(repo.parent / "step_summary.md"),
        GITHUB_OUTPUT=str(repo.parent / "github_output"),
    )
    return env


def run_step(
    repo: Path, step: dict[str, Any], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def workflow_repo(
    directory: Path, fake: FakeOpenAI, control_port: int, secrets: dict[str, str]
) -> tuple[Path, dict[str, Any], dict[str, str]]:
    """A repository holding the fake's registry, the documented check step, and its env."""
    repo = directory / "repo"
    repo.mkdir()
    write_gate_registry(repo, fake.base_url, control_port, key_env="OPENAI_API_KEY", connect_s=0.5)
    step = step_named(yaml.safe_load(WORKFLOW.read_text()), "Check pinned models")
    return repo, step, runner_env(repo, step.get("env", {}), secrets)


def test_the_documented_workflow_fails_on_removal_passes_on_return_and_cannot_tell_offline(
    fake: FakeOpenAI, control_port: int, isolated_env: Path
) -> None:
    repo, step, env = workflow_repo(isolated_env, fake, control_port, {"OPENAI_API_KEY": KEY})
    summary = repo.parent / "step_summary.md"

    present = run_step(repo, step, env)
    fake.remove_model(PINNED)
    removed = run_step(repo, step, env)
    fake.add_model(Model(PINNED, served_as=SERVED_AS))
    back = run_step(repo, step, env)
    fake.stop()
    # The provider's port now never answers (a refusal would prove the host up and the
    # server down), and the control check's port refuses: this machine looks offline.
    with silent_port(urlsplit(fake.base_url).port or 0):
        offline = run_step(repo, step, env)

    assert present.returncode == 0, present.stdout + present.stderr
    assert "::" not in present.stdout
    assert removed.returncode == 1
    assert removed.stdout.startswith(
        f"::error file=providers.yaml,line={PIN_LINE},title=Pinned model is gone%3A "
        f"acme/{PINNED}::catalog: not in the catalog (1 models listed)"
    )
    assert back.returncode == 0
    assert offline.returncode == 3
    assert offline.stdout.startswith(
        f"::warning file=providers.yaml,line={PIN_LINE},title=Could not tell whether pinned "
        f"model is available%3A acme/{PINNED}::could not tell: "
    )
    assert "gone" not in offline.stdout.split("\n", 1)[0].split("::")[-1]
    assert "FAIL" not in offline.stdout
    tables = summary.read_text().split("### modelaudit check: ")[1:]
    assert [t.split("\n", 1)[0] for t in tables] == [
        "exit 0: no pinned model needs attention",
        "exit 1: a pinned model is gone, retired, retiring, drifted or failing",
        "exit 0: no pinned model needs attention",
        "exit 3: could not tell: no definitive answer for some pinned model",
    ]
    everything = "".join(p.stdout + p.stderr for p in (present, removed, back, offline))
    assert KEY not in everything + summary.read_text()


def test_the_workflow_without_its_secret_says_skipped_not_gone(
    fake: FakeOpenAI, control_port: int, isolated_env: Path
) -> None:
    repo, step, env = workflow_repo(isolated_env, fake, control_port, {})

    done = run_step(repo, step, env)

    assert done.returncode == 3
    assert "OPENAI_API_KEY is set but empty" in done.stdout
    assert not fake.requests


def action_env(repo: Path, **inputs: str) -> dict[str, str]:
    """The check step's env as the runner expands it: each `${{ inputs.x }}` is the input's
    value, or its default."""
    action = yaml.safe_load(ACTION.read_text())
    step = step_named(action, "Check pinned models")
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in inputs.items()})
    expanded = {}
    for name, value in step["env"].items():
        match = re.fullmatch(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", value)
        assert match, f"{name} must come from an input, got {value!r}"
        expanded[name] = values[match[1]]
    env = runner_env(repo, expanded, {})
    env["ACME_API_KEY"] = KEY
    return env


def test_the_actions_check_step_passes_its_inputs_and_reports_the_exit_code(
    fake: FakeOpenAI, control_port: int, isolated_env: Path
) -> None:
    repo = isolated_env / "repo"
    repo.mkdir()
    write_gate_registry(repo, fake.base_url, control_port)
    step = step_named(yaml.safe_load(ACTION.read_text()), "Check pinned models")
    output = repo.parent / "github_output"

    clear = run_step(repo, step, action_env(repo))
    fake.remove_model(PINNED)
    sarif = run_step(repo, step, action_env(repo, format="sarif", output="pins.sarif"))
    warned = run_step(repo, step, action_env(repo, live="true", fail_on="down", warn_days="5"))
    bad = run_step(repo, step, action_env(repo, live="yes"))

    assert (clear.returncode, sarif.returncode, warned.returncode) == (0, 1, 1)
    assert "::" not in clear.stdout
    assert f"ok       acme/{PINNED}" in clear.stdout
    assert "pin-gone" in (repo / "pins.sarif").read_text()
    assert len(fake.generation_requests(PINNED)) == 1, "live=true sent one completion"
    assert bad.returncode == 2
    assert "::error title=modelaudit action::input live must be true or false" in bad.stdout
    assert output.read_text().splitlines() == [
        "exit-code=0",
        "exit-code=1",
        "exit-code=1",
        "exit-code=2",
    ]


def test_the_action_installs_from_pypi_or_its_own_checkout() -> None:
    action = yaml.safe_load(ACTION.read_text())
    install = step_named(action, "Install modelaudit")["run"]

    assert '"llm-modelaudit==$INPUT_VERSION"' in install
    assert '"$ACTION_PATH"' in install
    assert action["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"


def test_the_pre_commit_hook_runs_config_check_on_the_registry(isolated_env: Path) -> None:
    (hook,) = yaml.safe_load(HOOKS.read_text())

    def run_hook(registry: str) -> subprocess.CompletedProcess[str]:
        write(isolated_env, registry)
        return subprocess.run(
            hook["entry"].split(),
            cwd=isolated_env,
            env=runner_env(isolated_env, {}, {}),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    good = run_hook(COMMENTED)
    bad = run_hook("version: 2\nproviders: []\n")

    assert hook["entry"] == "modelaudit config check"
    assert (hook["language"], hook["pass_filenames"]) == ("python", False)
    assert re.search(hook["files"], "providers.yaml")
    assert re.search(hook["files"], "deploy/providers.yml")
    assert not re.search(hook["files"], "providers.yaml.bak")
    assert good.returncode == 0, good.stderr
    assert "providers.yaml: valid" in good.stderr
    assert bad.returncode == 2


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_the_docs_carry_the_example_workflow_verbatim(doc: Path) -> None:
    # The workflow a reader copies from the README is the one the tests run.
    assert WORKFLOW.read_text() in doc.read_text()


@pytest.mark.netns
def test_a_machine_with_no_network_at_all_could_not_tell(
    fake: FakeOpenAI, control_port: int, isolated_env: Path
) -> None:
    from tests.netns import run_offline

    repo, step, env = workflow_repo(isolated_env, fake, control_port, {"OPENAI_API_KEY": KEY})

    result = run_offline(["bash", "-eo", "pipefail", "-c", step["run"]], env=env, cwd=repo)

    assert result.returncode == 3, result.stdout + result.stderr
    assert "could not tell" in result.stdout
    assert "this machine could not reach the network" in result.stdout
    assert "::error" not in result.stdout
    assert fake.connections == 0, "the namespace has no route even to the host's loopback"
