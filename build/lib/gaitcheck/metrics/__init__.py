"""Per-step metrics, summaries with confidence, and stride-cycle curves."""
