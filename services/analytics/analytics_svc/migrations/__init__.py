"""Versioned SQL migrations of the analytics schema."""
