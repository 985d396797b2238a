"""Versioned SQL migrations of the gateway schema."""
