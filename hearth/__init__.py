"""hearth: keep an AI companion alive across models."""

__version__ = "0.1.0"
