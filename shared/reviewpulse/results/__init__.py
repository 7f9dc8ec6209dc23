"""Per-item results: how they are stored, merged and summarised."""
