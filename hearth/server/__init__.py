"""`hearth serve`: web UI and OpenAI-compatible proxy; route handlers translate, `companion/` works."""
