"""uvicorn's logging configuration, extended to the server's own `phosphobs.*` loggers.

Without it those loggers reach only Python's last-resort handler (warnings and errors, unformatted),
so one-line notices such as a slow client being closed would be lost or look unlike the rest.
"""

from __future__ import annotations

import copy
from typing import Any

from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG


def log_config(level: str) -> dict[str, Any]:
    """`level` is uvicorn's `--log-level` name (trace, debug, info, warning, error, critical)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    number = LOG_LEVELS.get(level.lower(), LOG_LEVELS["info"])
    config["loggers"]["phosphobs"] = {"handlers": ["default"], "level": number, "propagate": False}
    return config
