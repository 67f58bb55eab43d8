"""The history store: probe runs, attempts, verdicts and catalog snapshots over time.

`base` is the interface (what is written and read, as values and protocols), `backends`
resolves `--db` to a backend and registers each one, `recorder` writes a run as the probe
runs; one package per backend (`sqlite`). The rules every backend shares are here too:
`incidents` (the incident rule), `buckets` (percentiles), `liveness` (is a writer gone?).
See docs/extending.md.
"""
