"""Well-being guard: crisis detection and help, honesty checks."""
