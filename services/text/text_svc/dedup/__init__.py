"""Near-duplicate detection: corpus scan, shingles, MinHash/LSH, exact and semantic duplicates,
the corpus dedup job and gRPC TextService.
"""
