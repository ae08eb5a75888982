"""The daemon's stages (locate, classify, smooth, command, safety, stats) and the loop."""
