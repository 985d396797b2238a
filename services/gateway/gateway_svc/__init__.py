"""clipsift API gateway."""
