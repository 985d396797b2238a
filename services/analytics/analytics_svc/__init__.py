"""clipsift analytics service."""
