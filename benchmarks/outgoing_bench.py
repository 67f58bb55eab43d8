"""What redacting values (`outgoing`) costs a report, against the whole-text pass it replaced.

Builds one report in-process from a history database (a month from
`benchmarks/report_bench.py --keep DB`, or any database with the same 200 targets), then
times, per format, the median of N renders:

* now: `render(report, kind)`, which walks the report once (`outgoing`: every string
  redacted and made printable) and, for JSON, writes it with `json_text` (a second walk
  that turns a non-finite number into null);
* before: the renderer without either walk, then `redact()` over the whole serialized
  text, as `console.data` and the `-o` writer did (the pass that could break a document).

    .venv/bin/python benchmarks/outgoing_bench.py --db month.db [--repeat 7]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_bench import FORMATS, registry_yaml


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    import json

    from modelaudit.outgoing import outgoing
    from modelaudit.redact import redact
    from modelaudit.registry import load
    from modelaudit.report.formats import ReportFormat, formatter_class, json_doc
    from modelaudit.report.model import build_report
    from modelaudit.report.render import PLAIN, render
    from modelaudit.report.source import open_history

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "providers.yaml"
        path.write_text(registry_yaml(args.models))
        registry = load(path).registry
    with open_history(args.db) as reader:
        now = datetime.now(UTC)
        report = build_report(registry, reader, now=now, span=timedelta(days=30))

    def before(kind: ReportFormat) -> str:
        if kind is ReportFormat.JSON:
            text = json.dumps(json_doc.document(report), indent=2, ensure_ascii=False) + "\n"
        else:
            buffer = io.StringIO()
            formatter_class(kind)(buffer, PLAIN).write_safe(report)
            text = buffer.getvalue()
        return redact(text)

    def now_(kind: ReportFormat) -> str:
        return render(report, kind)

    print(f"load average {os.getloadavg()[0]:.1f}; {len(report.models)} models")
    for name in FORMATS:
        kind = ReportFormat(name)
        figures = {}
        for label, work in (("before", before), ("now", now_)):
            runs = []
            for _ in range(args.repeat):
                started = time.process_time()
                size = len(work(kind))
                runs.append(time.process_time() - started)
            figures[label] = statistics.median(runs)
        started = time.process_time()
        for _ in range(args.repeat):
            outgoing(report)
        walk = (time.process_time() - started) / args.repeat
        print(
            f"{name:8} {size:>10,} chars: before {figures['before']:.3f} s, "
            f"now {figures['now']:.3f} s ({figures['now'] / figures['before']:.2f}x); "
            f"the walk alone {walk:.3f} s"
        )


if __name__ == "__main__":
    main()
