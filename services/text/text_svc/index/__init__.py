"""Persistent per-tenant text indexes: sketches, PostgreSQL storage, vectors, the index job and
gRPC IndexService.
"""
