"""The one place that turns instrumentation failures into log lines."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

logger = logging.getLogger("tracepond")

P = ParamSpec("P")
R = TypeVar("R")


def swallow(func: Callable[P, R | None]) -> Callable[P, R | None]:
    """Run `func`; on any Exception log it and return None. For instrumentation paths only."""

    @functools.wraps(func)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return func(*args, **kwargs)
        except Exception:
            logger.warning("tracepond: instrumentation error in %s", func.__name__, exc_info=True)
            return None

    return guarded
