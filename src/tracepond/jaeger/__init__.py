"""A Jaeger-compatible read API under ``/jaeger/``: the HTTP JSON API that Jaeger's UI and
Grafana's Jaeger data source use, so that Grafana can show tracepond's traces.

Point Grafana's Jaeger data source at ``http://<tracepond>:4318/jaeger``. Endpoints (all answer
``{"data": ..., "total", "limit", "offset", "errors"}``):

* ``GET /jaeger/api/services``
* ``GET /jaeger/api/services/{service}/operations`` (names) and
  ``GET /jaeger/api/operations?service=&spanKind=`` (``[{"name", "spanKind"}]``)
* ``GET /jaeger/api/traces?service=&operation=&tags=&minDuration=&maxDuration=&start=&end=&limit=``
  (``tags`` is a JSON object or ``key=value`` pairs separated by spaces; durations are Go-style
  ``1.5s``, ``300ms``, ``20us``; ``start``/``end`` are microseconds since the epoch)
* ``GET /jaeger/api/traces/{traceID}``
* ``GET /jaeger/api/dependencies`` (always empty: tracepond keeps no service graph)
"""

from tracepond.jaeger._routes import mount

__all__ = ["mount"]
