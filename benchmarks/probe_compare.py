"""Before and after, side by side, from `probe_bench.py --samples` files: every sample of
each side's runs pooled, medians (and p95) per row.

    .venv/bin/python benchmarks/probe_compare.py --before b1.json b2.json --after a1.json a2.json

Run the two sides alternately on the same machine (before, after, before, after...): the
machine is shared, and only runs of one session compare.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

TOOLS = ("modelaudit", "blackbox_exporter", "bare httpx")
OURS_TO_BLACKBOX = {"new": "new", "reused": "connect excluded"}


def load(paths: list[Path]) -> dict[str, Any]:
    fidelity: dict[str, list[float]] = defaultdict(list)
    setup: dict[str, list[float]] = defaultdict(list)
    throughput: dict[tuple[str, int], dict[str, dict[str, list[float]]]] = {}
    for path in paths:
        data = json.loads(path.read_text())
        for key, values in data.get("fidelity", {}).items():
            fidelity[key] += values
        for key, values in data.get("setup", {}).items():
            setup[key] += values
        for scenario in data.get("throughput", []):
            into = throughput.setdefault((scenario["hosting"], scenario["cap"]), {})
            for figure in ("run_s", "process_s", "cpu_s", "rss_mb"):
                for tool, values in scenario[figure].items():
                    into.setdefault(figure, {}).setdefault(tool, []).extend(values)
            into.setdefault("ideal_s", {}).setdefault("", []).append(scenario["ideal_s"])
    return {"fidelity": fidelity, "setup": setup, "throughput": throughput}


def p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]
    )


def cell(values: list[float] | None) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({p95(values):.1f})"


def fidelity_table(before: dict[str, Any], after: dict[str, Any]) -> None:
    print(
        "| delay | metric | connection | modelaudit before | modelaudit after "
        "| blackbox_exporter (before's runs) | blackbox_exporter (after's runs) |"
    )
    print("|---|---|---|---|---|---|---|")
    rows = sorted(
        {tuple(k.split("|")) for k in after["fidelity"] if k.split("|")[1] == "modelaudit"},
        key=lambda r: (int(r[0]), r[2] != "latency", r[3]),
    )
    for delay, _, metric, connection in rows:
        ours = f"{delay}|modelaudit|{metric}|{connection}"
        bb_metric = "latency" if metric == "latency" else "whole stream"
        theirs = f"{delay}|blackbox_exporter|{bb_metric}|{OURS_TO_BLACKBOX[connection]}"
        print(
            f"| {delay} ms | {metric} | {connection} | {cell(before['fidelity'].get(ours))} "
            f"| {cell(after['fidelity'].get(ours))} | {cell(before['fidelity'].get(theirs))} "
            f"| {cell(after['fidelity'].get(theirs))} |"
        )


def throughput_table(before: dict[str, Any], after: dict[str, Any]) -> None:
    print("\n| scenario | figure | before | after | after / before |")
    print("|---|---|---|---|---|")
    for key in sorted(after["throughput"]):
        for figure, unit in (("run_s", "s"), ("process_s", "s"), ("cpu_s", "s"), ("rss_mb", "MB")):
            b = before["throughput"].get(key, {}).get(figure, {}).get("modelaudit")
            a = after["throughput"][key].get(figure, {}).get("modelaudit")
            if not a or not b:
                continue
            mb, ma = statistics.median(b), statistics.median(a)
            print(
                f"| {key[0]}, cap {key[1]} | {figure} (median of {len(b)} / {len(a)}) "
                f"| {mb:.2f} {unit} | {ma:.2f} {unit} | {ma / mb:.3f} |"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", nargs="+", type=Path, required=True)
    parser.add_argument("--after", nargs="+", type=Path, required=True)
    args = parser.parse_args()
    before, after = load(args.before), load(args.after)
    if after["fidelity"]:
        fidelity_table(before, after)
    if after["throughput"]:
        throughput_table(before, after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
