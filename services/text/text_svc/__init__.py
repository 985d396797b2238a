"""clipsift text service: near-duplicate detection over text corpora."""
