"""``/metrics``: Prometheus exposition of ingest health and GenAI usage.

Nothing here runs per span. Ingest counters are read from the counters the ingest service and
the write pipeline keep anyway; GenAI metrics are aggregated once per commit (``on_commit`` hands
each committed group to a metrics thread, off the writer); store sizes are read at scrape time.
See docs/operate.md for every metric.
"""

from tracepond.metrics._exporter import CONTENT_TYPE, Metrics, mount

__all__ = ["CONTENT_TYPE", "Metrics", "mount"]
