"""Alerts: tell someone when a model they depend on goes, and only then (docs/alerts.md).

`evaluate` decides, as a pure function, what each route is told after a run (thresholds,
de-duplication, maintenance windows); `state` holds the values the history store keeps
between runs; `message` words a notice; `send` delivers through Apprise, bounded in time;
`service` ties them to a stored run, and is what `probe` and `watch` call.
"""
