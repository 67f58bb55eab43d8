"""The `risk:` section of providers.yaml: additive (a registry without it loads with the
documented defaults), strict (a bad weight or a typo is a file:line:col error)."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelaudit.cli.app import main
from modelaudit.registry import load
from modelaudit.registry.schema import Risk

REGISTRY = """\
version: 1
risk:
  weights:
    availability: 40
    control: {control}
  levels:
    elevated: {elevated}
  home_jurisdiction: FR
providers:
  - name: acme
    api: openai
    base_url: https://api.acme.test/v1
    hosting: vendor
    jurisdiction: US
    models:
      - id: acme-large
        weights: closed
"""


def write(isolated_env: Path, **fields: object) -> Path:
    values = {"control": 15, "elevated": 30, **fields}
    path = isolated_env / "providers.yaml"
    path.write_text(REGISTRY.format(**values))
    return path


def problems(capsys: pytest.CaptureFixture[str]) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("providers.yaml:")]


def test_a_registry_without_a_risk_section_gets_the_documented_defaults(
    isolated_env: Path,
) -> None:
    path = isolated_env / "providers.yaml"
    path.write_text(REGISTRY.split("providers:\n")[1].join(["version: 1\nproviders:\n", ""]))

    risk = load(path).registry.risk

    assert risk == Risk()
    assert risk.weights.model_dump() == {
        "availability": 30.0,
        "latency": 10.0,
        "lifecycle": 35.0,
        "control": 15.0,
        "substitutability": 25.0,
        "regulatory": 10.0,
        "concentration": 10.0,
    }
    assert (risk.levels.elevated, risk.levels.high, risk.levels.critical) == (30, 55, 80)
    assert risk.retirement_horizon_days == 180
    assert risk.home_jurisdiction is None


def test_weights_set_in_the_file_override_only_what_they_name(isolated_env: Path) -> None:
    risk = load(write(isolated_env, control=5)).registry.risk

    assert (risk.weights.availability, risk.weights.control, risk.weights.lifecycle) == (
        40.0,
        5.0,
        35.0,
    )
    assert risk.home_jurisdiction == "FR"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("control: 15", "control: -5"),
            "providers.yaml:5:14: risk.weights.control: must be greater than or equal to 0",
        ),
        (
            ("control: 15", "control: high"),
            "providers.yaml:5:14: risk.weights.control: expected a number, got `high`",
        ),
        (
            ("control: 15", "control: 500"),
            "providers.yaml:5:14: risk.weights.control: must be less than or equal to 100",
        ),
        (
            ("elevated: 30", "elevated: 90"),
            "providers.yaml:7:15: risk.levels.elevated: levels must rise: "
            "elevated < high < critical (got 90, 55, 80)",
        ),
        (
            ("availability: 40", "availabilty: 40"),
            "providers.yaml:4:5: risk.weights.availabilty: unknown field `availabilty` "
            "(did you mean `availability`?)",
        ),
        (
            ("home_jurisdiction: FR", "home_jurisdiction: UK"),
            "providers.yaml:8:22: risk.home_jurisdiction: `UK` is not an ISO 3166-1 alpha-2 "
            "code: use GB",
        ),
    ],
)
def test_a_bad_risk_setting_is_reported_at_its_line_and_column(
    isolated_env: Path,
    capsys: pytest.CaptureFixture[str],
    edit: tuple[str, str],
    expected: str,
) -> None:
    path = write(isolated_env)
    path.write_text(path.read_text().replace(*edit))

    code = main(["config", "check"])

    assert code == 2
    assert problems(capsys) == [expected]
