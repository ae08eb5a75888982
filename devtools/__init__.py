"""Developer tools, never installed on a device: demo, benches, scripted frames, a local broker,
the MediaPipe model fetcher, a fake picamera2 and the sequence evaluation. Run from a checkout."""
