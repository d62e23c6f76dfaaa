"""GenAI and span metrics derived from committed span batches, aggregated with pyarrow.

``GenAIMetrics.observe`` runs on the writer thread after every commit. It does a fixed number of
vectorized passes over the batch (group-bys on a few columns) and then a Python loop over the
*groups*, never over spans, so its cost stays small next to the commit itself.

Names follow the OpenTelemetry GenAI metric conventions, in Prometheus form:

* ``gen_ai_client_token_usage`` (histogram, tokens per call; ``token_type`` = input/output)
* ``gen_ai_client_operation_duration_seconds`` (histogram, seconds per call)

counted over *leaf* LLM/embedding spans: a framework span whose LLM/embedding child is in the
same commit is skipped, so the provider call below a LangChain span counts once (the rule trace
totals use, applied within one commit: see docs/operate.md for the approximation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracepond.conventions._model import EMBEDDING, LLM
from tracepond.metrics._state import Counter, Histogram, LabelCap, Lock, bucket_bounds
from tracepond.model.records import WriteResult

# Bucket boundaries recommended by the OTel GenAI metric conventions.
TOKEN_BUCKETS = bucket_bounds(
    [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
)
DURATION_BUCKETS = bucket_bounds(
    [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
)
# Arrow scalars made once: a Python constant passed to a compute function is converted on
# every call, and that conversion is most of the cost of a small call.
ERROR_STATUS = pa.scalar(2, pa.uint8())
_UNKNOWN = pa.scalar("unknown", pa.string())
_NS_PER_SECOND = pa.scalar(1e9, pa.float64())
_INFERENCE = pa.array([LLM, EMBEDDING])
GENAI_LABELS = ("model", "provider", "operation", "service")
SPAN_LABELS = ("category", "service")


@dataclass
class GenAISnapshot:
    token_usage: list[tuple[tuple[str, ...], list[tuple[str, float]], float]]
    operation_duration: list[tuple[tuple[str, ...], list[tuple[str, float]], float]]
    span_duration: list[tuple[tuple[str, ...], list[tuple[str, float]], float]]
    cost: dict[tuple[str, ...], float]
    spans: dict[tuple[str, ...], float]
    errors: dict[tuple[str, ...], float]
    skipped_spans: float
    folded: dict[str, int]


class GenAIMetrics:
    def __init__(self, max_label_values: int = 100) -> None:
        self._lock = Lock()
        self._caps = {name: LabelCap(max_label_values) for name in ("model", "provider", "service")}
        # Categories are a closed set (conventions.CATEGORIES) but a cap costs nothing.
        self._caps["category"] = LabelCap(max_label_values)
        self.token_usage = Histogram(TOKEN_BUCKETS)
        self.operation_duration = Histogram(DURATION_BUCKETS)
        self.span_duration = Histogram(DURATION_BUCKETS)
        self.cost = Counter()
        self.spans = Counter()
        self.errors = Counter()
        self.skipped_spans = 0.0

    def observe(self, table: pa.Table, result: WriteResult) -> None:
        """Count the spans a commit stored (``table`` is the group as received)."""
        if result.inserted == 0:
            return
        if result.duplicates:
            table = _first_copies(table)
            if table.num_rows != result.inserted:
                # Some spans were already stored by an earlier commit and we cannot tell which
                # without a lookup: count none of this commit rather than count some twice.
                with self._lock:
                    self.skipped_spans += result.inserted
                return
        prepared = _prepare(table)
        leaf = _leaf_inference(prepared)
        genai_keys = ["model", "provider", "category", "service"]
        span_groups = _histogram_groups(
            prepared, ["category", "service"], "duration", DURATION_BUCKETS, extra="error"
        )
        duration_groups = _histogram_groups(leaf, genai_keys, "duration", DURATION_BUCKETS)
        token_groups = {
            kind: _histogram_groups(
                leaf.filter(pc.is_valid(leaf[column])), genai_keys, column, TOKEN_BUCKETS
            )
            for kind, column in (("input", "input_tokens"), ("output", "output_tokens"))
        }
        costed = leaf.filter(pc.is_valid(leaf["cost"]))
        cost_groups = (
            costed.group_by(["model", "provider", "service"], use_threads=False)
            .aggregate([("cost", "sum")])
            .to_pylist()
            if costed.num_rows
            else []
        )
        caps = self._caps
        with self._lock:
            for values, bucket, count, total, errors in span_groups:
                key = (caps["category"](values[0]), caps["service"](values[1]))
                self.span_duration.add(key, bucket, count, total)
                self.spans.add(key, count)
                self.errors.add(key, errors)
            for values, bucket, count, total, _ in duration_groups:
                self.operation_duration.add(self._genai_key(values), bucket, count, total)
            for kind, groups in token_groups.items():
                for values, bucket, count, total, _ in groups:
                    self.token_usage.add((*self._genai_key(values), kind), bucket, count, total)
            for cost in cost_groups:
                labels = (
                    caps["model"](cost["model"]),
                    caps["provider"](cost["provider"]),
                    caps["service"](cost["service"]),
                )
                self.cost.add(labels, cost["cost_sum"])

    def _genai_key(self, row: tuple[Any, ...]) -> tuple[str, ...]:
        caps = self._caps
        return (
            caps["model"](row[0]),
            caps["provider"](row[1]),
            caps["category"](row[2]),
            caps["service"](row[3]),
        )

    def snapshot(self) -> GenAISnapshot:
        with self._lock:
            return GenAISnapshot(
                token_usage=self.token_usage.snapshot(),
                operation_duration=self.operation_duration.snapshot(),
                span_duration=self.span_duration.snapshot(),
                cost=dict(self.cost.values),
                spans=dict(self.spans.values),
                errors=dict(self.errors.values),
                skipped_spans=self.skipped_spans,
                folded={name: cap.folded for name, cap in self._caps.items()},
            )


# The columns of a committed group the metrics read: the rest (attribute and view JSON, most of
# a group's bytes) is left behind at the commit, so that the metrics thread neither holds nor
# copies it.
METRIC_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "start_ns",
    "end_ns",
    "status_code",
    "service_name",
    "category",
    "model",
    "provider",
    "input_tokens",
    "output_tokens",
    "cost",
)


def _first_copies(table: pa.Table) -> pa.Table:
    """The first copy of each (trace_id, span_id), as the store keeps it (vectorized)."""
    indexed = table.select(["trace_id", "span_id"]).append_column(
        "_row", pa.array(range(table.num_rows), pa.int64())
    )
    first = indexed.group_by(["trace_id", "span_id"], use_threads=False).aggregate(
        [("_row", "min")]
    )
    # Row order does not matter to the aggregations that follow.
    return table.take(first["_row_min"])


def _prepare(table: pa.Table) -> pa.Table:
    """The columns the metrics need, nulls made explicit, duration in seconds."""
    duration = pc.divide(
        pc.cast(pc.subtract(table["end_ns"], table["start_ns"]), pa.float64()), _NS_PER_SECOND
    )
    error = pc.cast(pc.equal(table["status_code"], ERROR_STATUS), pa.int64())
    return pa.table(
        {
            "span_id": table["span_id"],
            "parent_span_id": table["parent_span_id"],
            "category": pc.fill_null(table["category"], _UNKNOWN),
            "model": pc.fill_null(table["model"], _UNKNOWN),
            "provider": pc.fill_null(table["provider"], _UNKNOWN),
            "service": pc.fill_null(table["service_name"], _UNKNOWN),
            "input_tokens": table["input_tokens"],
            "output_tokens": table["output_tokens"],
            "cost": table["cost"],
            "duration": duration,
            "error": error,
        }
    )


def _leaf_inference(prepared: pa.Table) -> pa.Table:
    """LLM/embedding spans with no LLM/embedding child in the same commit."""
    inference = prepared.filter(pc.is_in(prepared["category"], value_set=_INFERENCE))
    if not inference.num_rows:
        return inference
    parents = pc.drop_null(inference["parent_span_id"]).combine_chunks()
    if not len(parents):
        return inference
    return inference.filter(pc.invert(pc.is_in(inference["span_id"], value_set=parents)))


def _histogram_groups(
    table: pa.Table,
    keys: list[str],
    value: str,
    bounds: tuple[float, ...],
    extra: str | None = None,
) -> list[tuple[tuple[Any, ...], int, int, float, float]]:
    """(key values, bucket index, count, sum of ``value``, sum of ``extra``) per group.

    The bucket index is where the value falls among the bounds (``le`` is inclusive, as in
    Prometheus): one numpy call for the whole batch, then one group-by."""
    if not table.num_rows:
        return []
    values = table[value].to_numpy()
    bucket = np.searchsorted(np.asarray(bounds, dtype=np.float64), values, side="left")
    aggregates = [(value, "count"), (value, "sum")]
    if extra is not None:
        aggregates.append((extra, "sum"))
    grouped = (
        table.select([*keys, value, *([extra] if extra else [])])
        .append_column("_bucket", pa.array(bucket, pa.int64()))
        .group_by([*keys, "_bucket"], use_threads=False)
        .aggregate(aggregates)
    )
    key_rows = zip(*(grouped[name].to_pylist() for name in keys), strict=True)
    extras = grouped[f"{extra}_sum"].to_pylist() if extra else [0.0] * grouped.num_rows
    return list(
        zip(
            key_rows,
            grouped["_bucket"].to_pylist(),
            grouped[f"{value}_count"].to_pylist(),
            grouped[f"{value}_sum"].to_pylist(),
            extras,
            strict=True,
        )
    )
