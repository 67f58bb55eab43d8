"""Test registries for the gate: hosts are loopback fakes or `*.invalid`, never a vendor."""

from __future__ import annotations

from pathlib import Path

# Comments and blank lines on purpose: annotations must land on the pin's own line.
COMMENTED = """\
# A registry with comments and blank lines, so line numbers are not trivial.
version: 1

providers:

  # The vendor we depend on.
  - name: acme
    api: openai
    base_url: https://api.acme.invalid/v1
    api_key: env:ACME_API_KEY
    hosting: vendor
    jurisdiction: FR
    models:

      # Not pinned: never checked.
      - id: acme-small
        weights: closed

      # Pinned, with a fallback.
      - id: acme-large
        weights: closed
        pinned: true
        fallbacks: [other/big]

  - name: other
    api: openai
    base_url: https://api.other.invalid/v1
    hosting: third-party
    jurisdiction: US
    models:
      - id: big
        weights: open
        pinned: true
        retires: 2027-01-31
"""
ACME_LARGE_LINE = 20
OTHER_BIG_LINE = 31


def write(directory: Path, text: str = COMMENTED, name: str = "providers.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
