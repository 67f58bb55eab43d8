"""A fixed week of history for a small portfolio: the story every report test tells.

Hourly runs for seven days ending at NOW (2026-12-01 06:00 UTC):

* acme (US vendor, closed, gated): `acme-large-2026-01-15` healthy (a few 429s, one
  `system_fingerprint` change); `acme-mini-2025-04-14` healthy but retiring on 2026-12-13
  while its request ceiling fell from 10000 to 2000; `acme-legacy` gone since 2026-11-28.
* bravo (FR vendor, closed): `bravo-pro` down for three hours and slow; `bravo-latest`, a
  floating alias probed daily that started answering as a newer model; `bravo-small`
  never probed.
* dragon (CN vendor of open weights): `dragon-v4`, pinned, with its twin at `host`.
* host (US third-party host): `dragon/dragon-v4` healthy; `qwen-27b` seen three times.
* local (self-hosted): `qwen-27b`, pinned, down for the last two days.
* `acme/acme-old` is in the history but no longer in the registry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from modelaudit.history import (
    CatalogChange,
    DriftEvent,
    Incident,
    ModelHistory,
    Percentiles,
    RateLimitPoint,
    TimelinePoint,
    VerdictPoint,
    counts_as,
)
from modelaudit.registry.schema import Registry
from modelaudit.registry.yamlsafe import parse
from modelaudit.vocabulary import ErrorClass, Verdict
from tests.memory_history import MemoryHistory

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
SPAN = timedelta(days=7)
SINCE = NOW - SPAN
RUNS = 168
BUCKET = timedelta(hours=6)

REGISTRY_YAML = """\
version: 1
risk:
  home_jurisdiction: FR
providers:
  - name: acme
    api: openai
    base_url: https://api.acme.test/v1
    api_key: env:ACME_API_KEY
    hosting: vendor
    jurisdiction: US
    regulatory:
      gated: true
    models:
      - id: acme-large-2026-01-15
        weights: closed
        pinned: true
        fallbacks: [bravo/bravo-pro]
      - id: acme-mini-2025-04-14
        weights: closed
        pinned: true
        retires: 2026-12-13
        fallbacks: [acme/acme-large-2026-01-15]
      - id: acme-legacy
        weights: closed
        pinned: true
        fallbacks: [bravo/bravo-pro, acme/acme-large-2026-01-15]
  - name: bravo
    api: openai
    base_url: https://api.bravo.test/v1
    api_key: env:BRAVO_API_KEY
    hosting: vendor
    jurisdiction: FR
    models:
      - id: bravo-pro
        weights: closed
        pinned: true
        fallbacks: [acme/acme-large-2026-01-15]
      - id: bravo-latest
        weights: closed
      - id: bravo-small
        weights: closed
  - name: dragon
    api: openai
    base_url: https://api.dragon.test/v1
    api_key: env:DRAGON_API_KEY
    hosting: vendor
    jurisdiction: CN
    models:
      - id: dragon-v4
        weights: open
        family: dragon-v4
        pinned: true
  - name: host
    api: openai
    base_url: https://api.host.test/v1
    api_key: env:HOST_API_KEY
    hosting: third-party
    jurisdiction: US
    models:
      - id: dragon/dragon-v4
        weights: open
        family: dragon-v4
      - id: qwen-27b
        weights: open
        family: qwen-27b
  - name: local
    api: openai
    base_url: http://127.0.0.1:9/v1
    hosting: self-hosted
    server: vllm
    models:
      - id: qwen-27b
        weights: open
        family: qwen-27b
        pinned: true
        slo:
          availability: 0.95
"""


def registry(text: str = REGISTRY_YAML) -> Registry:
    document, problems = parse(text)
    assert not problems
    return Registry.model_validate(document.data)


def at(run: int) -> datetime:
    return SINCE + timedelta(hours=run)


def run_of(moment: datetime) -> int:
    return int((moment - SINCE) / timedelta(hours=1))


GONE_FROM = run_of(datetime(2026, 11, 28, 8, tzinfo=UTC))
BRAVO_DOWN = range(run_of(datetime(2026, 11, 29, 2, tzinfo=UTC)), 119)
LOCAL_DOWN_FROM = run_of(datetime(2026, 11, 29, 6, tzinfo=UTC))
THROTTLED_FROM = run_of(datetime(2026, 11, 29, 0, tzinfo=UTC))

Outcome = Callable[[int], ErrorClass | None]
"""The class of a run's one availability attempt, or None when the model was not probed."""


@dataclass(frozen=True)
class Track:
    provider: str
    model: str
    outcome: Outcome
    latency: tuple[float, float, float]
    """p50, p95, p99 in ms of the successes."""
    ttft: tuple[float, float, float] | None = None


def _acme_large(run: int) -> ErrorClass:
    if run % 14 == 3:
        return ErrorClass.RATE_LIMITED
    return ErrorClass.SERVER_ERROR if run in (40, 41) else ErrorClass.OK


def _acme_legacy(run: int) -> ErrorClass:
    return ErrorClass.MODEL_NOT_FOUND if run >= GONE_FROM else ErrorClass.OK


def _bravo_pro(run: int) -> ErrorClass:
    if run in BRAVO_DOWN:
        return ErrorClass.TIMEOUT
    return ErrorClass.SERVER_ERROR if run % 30 == 7 else ErrorClass.OK


def _daily(run: int) -> ErrorClass | None:
    return ErrorClass.OK if run % 24 == 0 else None


def _dragon(run: int) -> ErrorClass:
    return ErrorClass.RATE_LIMITED if run % 10 == 9 else ErrorClass.OK


def _host_qwen(run: int) -> ErrorClass | None:
    return ErrorClass.OK if run in (10, 90, 160) else None


def _local_qwen(run: int) -> ErrorClass:
    return ErrorClass.CONNECT_FAILED if run >= LOCAL_DOWN_FROM else ErrorClass.OK


def _old(run: int) -> ErrorClass | None:
    return ErrorClass.MODEL_NOT_FOUND if run < 10 else None


TRACKS = (
    Track("acme", "acme-large-2026-01-15", _acme_large, (820, 1900, 4200), (310, 690, 1500)),
    Track("acme", "acme-mini-2025-04-14", lambda _: ErrorClass.OK, (300, 600, 950)),
    Track("acme", "acme-legacy", _acme_legacy, (700, 1500, 2600)),
    Track("bravo", "bravo-pro", _bravo_pro, (4100, 12500, 21000)),
    Track("bravo", "bravo-latest", _daily, (900, 1400, 1400)),
    Track("dragon", "dragon-v4", _dragon, (2400, 6100, 9800)),
    Track("host", "dragon/dragon-v4", lambda _: ErrorClass.OK, (1100, 2100, 3900)),
    Track("host", "qwen-27b", _host_qwen, (650, 700, 700)),
    Track("local", "qwen-27b", _local_qwen, (450, 800, 1300)),
    Track("acme", "acme-old", _old, (0, 0, 0)),
)

_VERDICT_OF = {
    ErrorClass.OK: Verdict.UP,
    ErrorClass.RATE_LIMITED: Verdict.DEGRADED,
    ErrorClass.SERVER_ERROR: Verdict.DEGRADED,
    ErrorClass.MODEL_NOT_FOUND: Verdict.GONE,
    ErrorClass.TIMEOUT: Verdict.DOWN,
    ErrorClass.CONNECT_FAILED: Verdict.DOWN,
}
_REASON_OF = {
    ErrorClass.OK: "answered",
    ErrorClass.RATE_LIMITED: "429 rate_limited: slow down (not an outage)",
    ErrorClass.SERVER_ERROR: "500 server_error, answered on retry",
    ErrorClass.MODEL_NOT_FOUND: "404 model_not_found: the model does not exist",
    ErrorClass.TIMEOUT: "timeout: no response headers within 30 s (first_byte_s)",
    ErrorClass.CONNECT_FAILED: "connect_failed: connection refused",
}


def _runs(track: Track) -> list[tuple[int, ErrorClass]]:
    return [(run, cls) for run in range(RUNS) if (cls := track.outcome(run)) is not None]


def _percentiles(n: int, values: tuple[float, float, float] | None) -> Percentiles:
    if n == 0 or values is None:
        return Percentiles(n=0)
    return Percentiles(n=n, p50=values[0], p95=values[1], p99=values[2])


def _history(track: Track) -> ModelHistory:
    runs = _runs(track)
    counted = Counter(counts_as(cls) for _, cls in runs)
    ok_runs = [run for run, cls in runs if counts_as(cls) == "ok"]
    return ModelHistory(
        provider=track.provider,
        model=track.model,
        ok=counted["ok"],
        failed=counted["failed"],
        excluded=counted["excluded"],
        latency=_percentiles(len(ok_runs), track.latency),
        ttft=_percentiles(len(ok_runs), track.ttft),
        error_classes=dict(Counter(cls for _, cls in runs)),
        first_seen=at(runs[0][0]),
        last_seen=at(runs[-1][0]),
        last_ok=at(ok_runs[-1]) if ok_runs else None,
    )


def _timeline(track: Track) -> list[TimelinePoint]:
    buckets: dict[int, Counter[str]] = {}
    for run, cls in _runs(track):
        buckets.setdefault(run // 6, Counter())[counts_as(cls)] += 1
    points = []
    for index, counted in sorted(buckets.items()):
        wobble = 1 + 0.1 * ((index * 7) % 5) / 4
        has_ok = counted["ok"] > 0
        points.append(
            TimelinePoint(
                start=SINCE + index * BUCKET,
                ok=counted["ok"],
                failed=counted["failed"],
                excluded=counted["excluded"],
                latency_p50=round(track.latency[0] * wobble) if has_ok else None,
                latency_p95=round(track.latency[1] * wobble) if has_ok else None,
                ttft_p50=round(track.ttft[0] * wobble) if has_ok and track.ttft else None,
            )
        )
    return points


def _verdicts(track: Track) -> list[VerdictPoint]:
    return [
        VerdictPoint(run_id=run + 1, at=at(run), verdict=_VERDICT_OF[cls], reason=_REASON_OF[cls])
        for run, cls in _runs(track)
    ]


def week_history() -> MemoryHistory:
    return MemoryHistory(
        model_rows=[_history(t) for t in TRACKS],
        timeline_rows={(t.provider, t.model): _timeline(t) for t in TRACKS},
        verdict_rows={(t.provider, t.model): _verdicts(t) for t in TRACKS},
        incident_rows=[
            Incident("acme", "acme-legacy", Verdict.GONE, at(GONE_FROM), None, RUNS - GONE_FROM),
            Incident(
                "bravo",
                "bravo-pro",
                Verdict.DOWN,
                at(BRAVO_DOWN.start),
                at(BRAVO_DOWN.stop),
                len(BRAVO_DOWN),
            ),
            Incident(
                "local",
                "qwen-27b",
                Verdict.DOWN,
                at(LOCAL_DOWN_FROM),
                None,
                RUNS - LOCAL_DOWN_FROM,
            ),
        ],
        catalog_rows=[
            CatalogChange("acme", "acme-legacy", "vanished", at(GONE_FROM)),
            CatalogChange("host", "new-model-2026-11", "appeared", at(138)),
        ],
        drift_rows=[
            DriftEvent("acme", "acme-large-2026-01-15", at(54), "fingerprint", "fp_a1", "fp_b2"),
            DriftEvent(
                "bravo", "bravo-latest", at(72), "served_model", "bravo-2026-09", "bravo-2026-11"
            ),
        ],
        ratelimit_rows={
            ("acme", "acme-mini-2025-04-14"): sorted(
                [
                    RateLimitPoint(
                        at(run),
                        "x-ratelimit-limit-requests",
                        10000.0 if run < THROTTLED_FROM else 2000.0,
                    )
                    for run in range(0, RUNS, 24)
                ]
                + [
                    RateLimitPoint(at(run), "x-ratelimit-limit-tokens", 2_000_000.0)
                    for run in range(0, RUNS, 24)
                ],
                key=lambda p: p.at,
            ),
            ("acme", "acme-large-2026-01-15"): [
                RateLimitPoint(at(run), "x-ratelimit-limit-requests", 10000.0)
                for run in range(0, RUNS, 24)
            ],
        },
    )
