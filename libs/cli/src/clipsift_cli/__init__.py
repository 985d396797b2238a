"""clipsift command line."""
