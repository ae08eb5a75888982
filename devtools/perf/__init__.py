"""`make bench`: every stage of the device pipeline timed on real frames, beside MediaPipe's own."""
