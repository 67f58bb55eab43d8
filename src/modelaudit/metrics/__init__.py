"""Metrics for Prometheus: the text exposition file and the `/metrics` endpoint."""
