"""Third-party noise off where nobody watches: progress bars only on a terminal, known warnings."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Any


class _DropQuantizerSteps(logging.Filter):
    """ai-edge-quantizer logs its steps ("Serializing model...") at INFO on the root logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno < logging.WARNING and "ai_edge_quantizer" in record.pathname)


def progress_bars() -> bool | None:
    """ai-edge-quantizer's `enable_progress_bar`: its own default on a terminal, else off."""
    return None if sys.stderr.isatty() else False


def quiet_third_party() -> None:
    """Call once in an entry point that quantizes, after logging is configured.

    On a terminal the progress bars stay (a person waits for them); in a pipe, a log file or
    `make demo`'s first run they are thousands of characters of carriage returns.
    """
    # We enable it on purpose: calibration reads every intermediate tensor's range, once, on
    # a workstation (convert/handquant.py `_true_ranges`); LiteRT warns about memory each time.
    warnings.filterwarnings(
        "ignore", message=r".*experimental_preserve_all_tensors", category=UserWarning
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_DropQuantizerSteps())
    if sys.stderr.isatty():
        return
    os.environ.setdefault("TQDM_DISABLE", "1")  # any tqdm user that leaves `disable` unset
    # ai-edge-quantizer passes tqdm an explicit `disable`, which TQDM_DISABLE cannot override,
    # and `calibrate` ("Running Calibration", thousands of steps) takes no option for it (some
    # `quantize` steps ignore theirs): its bars are turned off where they are made.
    from ai_edge_quantizer.utils import progress_utils

    bar = progress_utils.ProgressBar
    init = bar.__init__

    def no_bar(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["enable"] = False
        init(self, *args, **kwargs)

    bar.__init__ = no_bar
