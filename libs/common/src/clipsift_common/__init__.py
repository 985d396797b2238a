"""Shared plumbing for clipsift services."""
