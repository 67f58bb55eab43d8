"""Scheduled probing: the process lock, the `watch` loop and dead-man's-switch pings."""
