"""Probing: families in, results and verdicts out."""
