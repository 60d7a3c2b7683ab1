"""Who the companion is: the persona card, its measured style, the warmth dial."""
