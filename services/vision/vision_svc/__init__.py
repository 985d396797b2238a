"""clipsift vision service: faces in video frames, for reframing long videos into 9:16 clips."""
