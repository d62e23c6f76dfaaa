"""pyarrow, minus its pandas probe, for the server and its decode workers.

The first time pyarrow converts Python values (``pa.array``, ``pa.scalar``) it imports pandas,
if installed, only to ask whether the values are pandas objects. In a server that never touches
pandas that import costs ~0.4 s of start-up and ~45 MiB of memory per process (the server and
each decode worker). ``settle_pandas_probe`` runs that probe once while pandas cannot be
imported, so pyarrow records "no pandas" and never tries again for conversions; an explicit
``to_pandas()`` still imports pandas normally.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any


class _NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> Any:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ImportError("pandas is not imported by the tracepond server")
        return None


def settle_pandas_probe() -> None:
    """Make pyarrow's pandas probe answer "no pandas" (no-op if pandas is already loaded)."""
    if "pandas" in sys.modules:
        return
    blocker = _NoPandas()
    sys.meta_path.insert(0, blocker)
    try:
        import pyarrow as pa

        pa.array([0])  # runs the probe now, while the import fails
    finally:
        sys.meta_path.remove(blocker)
