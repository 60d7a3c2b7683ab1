"""The companion: one turn from the person\x27s message to a verified, stored reply."""
