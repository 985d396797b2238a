"""Fixtures of the text service's tests: the shared ones (``embedding_model``, ``analyzer``) come
from clipsift_testing.fixtures."""
