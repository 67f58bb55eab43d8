"""The history store: probe runs, attempts, verdicts and catalog snapshots over time."""
