"""The neutral data model every layer shares (the bottom layer, with ``errors``, ``projects``
and ``deadline``): the span batch and its schema (``spans``), per-trace summary rules
(``summary``), search filters and the query language's syntax tree (``filters``, ``ql_ast``,
``ql_fields``), the typed records crossing the store contract (``records``, ``skeleton``,
``keys``, ``jaeger``). It imports nothing of tracepond above it (docs/architecture.md,
tests/test_layers.py).
"""
