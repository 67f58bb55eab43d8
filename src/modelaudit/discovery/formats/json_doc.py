"""`discover --format json`: the document of `modelaudit.discovery.document`."""

from __future__ import annotations

from modelaudit.discovery.document import DiscoverDocument
from modelaudit.outgoing import json_text
from modelaudit.output.base import Formatter


class DiscoverJson(Formatter[DiscoverDocument]):
    def write_safe(self, value: DiscoverDocument) -> None:
        self.text(json_text(value.model_dump(mode="json"), indent=2, ensure_ascii=False))


FORMAT = DiscoverJson
