"""Business-continuity risk: a pure scorer and fallback selection."""
