"""clipsift audio service: speech transcription with word timings, language and audio features."""
