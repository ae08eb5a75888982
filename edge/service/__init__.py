"""The processes a device runs: the `gesture-edge` CLI, the daemon's composition root, capture."""
