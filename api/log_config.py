"""uvicorn's logging configuration, extended to the server's own `phosphobs.*` loggers.

Without it those loggers reach only Python's last-resort handler (warnings and errors, unformatted),
so one-line notices such as a slow client being closed would be lost or look unlike the rest.
"""

from __future__ import annotations

import copy
from typing import Any

from uvicorn.config import LOGGING_CONFIG


def log_config(level: str) -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["phosphobs"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config
