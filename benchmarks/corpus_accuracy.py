"""Replay the corpus of real response bodies (tests/corpus) through the probe path and
print the accuracy of the error class and of the verdict, per vendor, on the whole corpus
and on the part held back while the rules were written.

    .venv/bin/python -m benchmarks.corpus_accuracy [--misses] [--batch heldout-2]
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from tests.corpus_replay import Case, Outcome, load_cases, replay


def _table(title: str, cases: list[Case], outcomes: dict[str, Outcome]) -> None:
    rows: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for case in cases:
        got = outcomes[case.id]
        rows[case.vendor].append(
            (got.error_class == case.expected_class, got.verdict == case.expected_verdict)
        )
    print(f"\n## {title}: {len(cases)} bodies, {len(rows)} vendors\n")
    print("| vendor | bodies | class | verdict |")
    print("|---|---:|---:|---:|")
    for vendor in sorted(rows):
        hits = rows[vendor]
        print(
            f"| {vendor} | {len(hits)} | {sum(c for c, _ in hits)}/{len(hits)} "
            f"| {sum(v for _, v in hits)}/{len(hits)} |"
        )
    total = [h for hits in rows.values() for h in hits]
    classes, verdicts = sum(c for c, _ in total), sum(v for _, v in total)
    print(
        f"| **all** | {len(total)} | {classes}/{len(total)} ({100 * classes / len(total):.1f}%) "
        f"| {verdicts}/{len(total)} ({100 * verdicts / len(total):.1f}%) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", action="store_true", help="list the cases that miss")
    parser.add_argument("--dev-only", action="store_true", help="never show held-out cases")
    parser.add_argument("--batch", help="only the cases of one gathering round (e.g. heldout-2)")
    args = parser.parse_args()
    cases = load_cases()
    if args.dev_only:
        cases = [c for c in cases if not c.holdout]
    if args.batch:
        cases = [c for c in cases if c.batch == args.batch]
    outcomes = replay(cases)
    title = f"batch {args.batch}" if args.batch else "whole corpus"
    _table(title if not args.dev_only else "development part", cases, outcomes)
    if not args.dev_only and not args.batch:
        _table("held-out part", [c for c in cases if c.holdout], outcomes)
    if args.misses:
        print()
        for case in cases:
            got = outcomes[case.id]
            if (got.error_class, got.verdict) != (case.expected_class, case.expected_verdict):
                print(
                    f"MISS {case.id}: want {case.expected_class}/{case.expected_verdict}, "
                    f"got {got.error_class}/{got.verdict}: {got.reason}"
                )


if __name__ == "__main__":
    main()
