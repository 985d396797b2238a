"""clipsift video service: long video to short vertical clips."""
