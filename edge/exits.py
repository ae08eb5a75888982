"""Exit codes of every command (DESIGN.md): systemd and scripts read them."""

EX_OK = 0
EX_RUNTIME = 1  # a runtime failure (camera, locator, broker)
EX_USAGE = 2
EX_DATAERR = 65  # bad model or data (EX_DATAERR)
EX_CONFIG = 78  # configuration error (EX_CONFIG): systemd must not restart-loop on it
