"""Helpers shared by every test suite, imported as ``clipsift_testing`` (``tests/`` is on pytest's
``pythonpath``; a ``tests`` package in site-packages rules out ``tests.helpers``). Fixtures live in
:mod:`clipsift_testing.fixtures`, registered by the root conftest; plain functions in
:mod:`clipsift_testing.waiting` and :mod:`clipsift_testing.media` (ffmpeg, espeak-ng, encoded
images, fetched recordings); the test videos in :mod:`clipsift_testing.talk` and
:mod:`clipsift_testing.footage`."""
