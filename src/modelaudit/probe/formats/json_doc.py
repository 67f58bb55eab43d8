"""`--format json`: the whole run as one versioned JSON document."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from modelaudit.probe.document import report_json
from modelaudit.probe.formats.base import ProbeFormatter

if TYPE_CHECKING:
    from modelaudit.probe.result import RunReport


class JsonFormatter(ProbeFormatter):
    def emit(self, report: RunReport) -> None:
        self.write(json.dumps(report_json(report), indent=2))
