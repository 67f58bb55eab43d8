"""A fleet: three agents in three regions, in separate processes, writing to one
PostgreSQL at once; one of them is refused a model "in your region" (403, OpenAI's
`unsupported_country_region_territory`) while the other two see it answer. The report reads
"withdrawn in region ..." for that model and that region only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes import Behaviour, FakeOpenAI
from tests.helpers import run_cli

from .cli_support import KEY, env, spawn, write_store_registry

MODELS = ["frontier", "steady"]
REGIONS = ("ap-south", "eu-west", "us-east")
BLOCKED = "eu-west"


@pytest.mark.realserver
@pytest.mark.xdist_group("postgres")
def test_three_agents_in_three_regions_show_a_model_withdrawn_in_one(
    postgres_url: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        FakeOpenAI(key=KEY, models=MODELS) as open_fake,
        FakeOpenAI(key=KEY, models=MODELS) as blocked_fake,
    ):
        blocked_fake.behave("frontier", Behaviour.error("region_blocked"))
        processes = []
        for region in REGIONS:
            home = isolated_env / region
            home.mkdir()
            fake = blocked_fake if region == BLOCKED else open_fake
            write_store_registry(home, fake.base_url, MODELS)
            args = ["probe", "--exclusive", "--db", postgres_url, "--region", region]
            with (home / "probe.log").open("wb") as log:
                processes.append((spawn(args, home, stderr=log, environment=env()), home))
        codes = [process.wait(timeout=90) for process, _ in processes]
    logs = "\n".join((home / "probe.log").read_text() for _, home in processes)
    assert codes == [0, 0, 0], logs

    registry = str(isolated_env / "us-east" / "providers.yaml")
    code, out, err = run_cli(
        ["report", "-c", registry, "--db", postgres_url, "-f", "json", "--since", "1d"], capsys
    )
    assert code == 0, err
    document = json.loads(out)
    (finding,) = document["withdrawals"]
    assert (finding["model"], finding["region"]) == ("frontier", BLOCKED)
    assert finding["verdict"] == "blocked"
    assert finding["answering_in"] == ["ap-south", "us-east"]
    assert document["regions"] == list(REGIONS)
    frontier = next(m for m in document["models"] if m["model"] == "frontier")
    by_region = {r["region"]: r["last_verdict"]["verdict"] for r in frontier["regions"]}
    assert by_region == {"ap-south": "up", BLOCKED: "blocked", "us-east": "up"}
    regulatory = next(f for f in frontier["risk"]["factors"] if f["name"] == "regulatory")
    assert f"withdrawn in region {BLOCKED} since" in regulatory["evidence"]
    assert any(i["region"] == BLOCKED and i["model"] == "frontier" for i in document["incidents"])
    assert f"withdrawn in region {BLOCKED}" in err
    steady = next(m for m in document["models"] if m["model"] == "steady")
    assert {r["last_verdict"]["verdict"] for r in steady["regions"]} == {"up"}

    code, out, _ = run_cli(
        ["report", "-c", registry, "--db", postgres_url, "-f", "json", "--region", "us-east"],
        capsys,
    )
    assert code == 0
    assert json.loads(out)["withdrawals"] == []
