"""Retrieved documents -> ``{"id", "content", "score", "metadata"}`` (all four keys always set).

Sources, in precedence order: OTel ``gen_ai.retrieval.documents``; OpenInference indexed
``retrieval.documents.N.document.*`` (rerankers: ``reranker.{input,output}_documents``);
vector-DB ``db.query.result`` span events (OpenLLMetry); for retriever/reranker spans only,
documents inside the plain output (LangChain ``{"documents": [...]}``, a list of
``{page_content, metadata, id}`` from MLflow/LangSmith/Langfuse).
"""

from __future__ import annotations

from typing import Any

from tracepond.conventions._coerce import jsonish, loads, mapping, to_float, to_str
from tracepond.conventions._collect import Collected, Indexed
from tracepond.conventions._model import Document
from tracepond.conventions._tables import OI_DOCUMENT, VECTOR_DB_RESULT, VECTOR_DB_RESULT_EVENT

_CONTENT_KEYS = ("content", "page_content", "text", "document")
_KNOWN_KEYS = frozenset({"id", "score", "metadata", "type", *_CONTENT_KEYS})


def documents_from_attributes(found: Collected, family: str) -> list[Document] | None:
    if family == "oi_documents":
        direct = found.get("retrieval_documents")
        if direct is not None:
            return documents(direct)
    rows = found.family(family)
    return None if rows is None else _indexed(rows)


def documents(value: Any) -> list[Document] | None:
    """Documents from a list (or ``{"documents": [...]}``) of document-like objects."""
    items = _document_items(value)
    if items is None:
        return None
    out = []
    for item in items:
        doc = _document(item)
        if doc is not None:
            out.append(doc)
    return out or None


def count_documents(value: Any) -> int | None:
    """How many documents ``documents(value)`` would build, without building them."""
    items = _document_items(value)
    if items is None:
        return None
    count = 0
    for item in items:
        if type(item) is dict or _document_like(item):
            count += 1
    return count or None


def _document_like(item: Any) -> bool:
    """Whether ``_document(item)`` builds a document (dicts always do)."""
    if isinstance(item, dict):
        return True
    if not isinstance(item, str):
        return False
    # Text is a document unless it is a JSON array (JSON objects and strings are documents).
    return item.lstrip()[:1] != "[" or loads(item) is None


def _document_items(value: Any) -> list[Any] | None:
    if isinstance(value, dict):  # LangChain {"documents": [...]}, LangSmith {"output": [...]}
        value = value.get("documents", value.get("output"))
    if not isinstance(value, list) or not value:
        return None
    first = value[0]
    return first if isinstance(first, list) else value  # LangChain batches: [[doc, ...]]


def count_from_attributes(found: Collected, family: str) -> int | None:
    if family == "oi_documents":
        direct = found.get("retrieval_documents")
        if direct is not None:
            return count_documents(direct)
    return found.family_size(family)


def count_from_events(events: list[dict[str, Any]]) -> int | None:
    """How many documents ``documents_from_events`` would build."""
    count = 0
    for event in events:
        if event.get("name") == VECTOR_DB_RESULT_EVENT:
            count += isinstance(event.get("attributes"), dict)
    return count or None


def documents_from_events(events: list[dict[str, Any]]) -> list[Document] | None:
    out = []
    for event in events:
        attributes = event.get("attributes")
        if event.get("name") != VECTOR_DB_RESULT_EVENT or not isinstance(attributes, dict):
            continue
        metadata = mapping(attributes.get(VECTOR_DB_RESULT["metadata"])) or {}
        distance = to_float(attributes.get(VECTOR_DB_RESULT["distance"]))
        if distance is not None:
            metadata = {**metadata, "distance": distance}
        out.append(
            _doc(
                attributes.get(VECTOR_DB_RESULT["id"]),
                attributes.get(VECTOR_DB_RESULT["content"]),
                attributes.get(VECTOR_DB_RESULT["score"]),
                metadata or None,
            )
        )
    return out or None


def _indexed(rows: Indexed) -> list[Document] | None:
    out = []
    for index in sorted(rows):
        row = rows[index]
        out.append(
            _doc(
                row.get(OI_DOCUMENT["id"]),
                row.get(OI_DOCUMENT["content"]),
                row.get(OI_DOCUMENT["score"]),
                mapping(row.get(OI_DOCUMENT["metadata"])),
            )
        )
    return out or None


def _document(value: Any) -> Document | None:
    if type(value) is not dict:  # exact dicts (all parsed JSON) skip the checks below
        if isinstance(value, str):
            value = jsonish(value)
            if isinstance(value, str):
                return _doc(None, value, None, None)
        if not isinstance(value, dict):
            return None
    if "kwargs" in value and isinstance(value["kwargs"], dict) and value.get("lc") is not None:
        value = value["kwargs"]  # serialized LangChain Document
    if "content" in value:  # the first of _CONTENT_KEYS, and the usual one
        content = value["content"]
    else:
        content = next((value[key] for key in _CONTENT_KEYS if key in value), None)
    metadata = value.get("metadata")
    if type(metadata) is not dict:
        metadata = mapping(metadata)
    if not value.keys() <= _KNOWN_KEYS:
        extra = {key: item for key, item in value.items() if key not in _KNOWN_KEYS}
        metadata = {**(metadata or {}), **extra}
    doc_id = value.get("id")
    if doc_id is None and metadata is not None:
        doc_id = metadata.get("id", metadata.get("doc_id"))
    return _doc(doc_id, content, value.get("score"), metadata)


def _doc(doc_id: Any, content: Any, score: Any, metadata: dict[str, Any] | None) -> Document:
    return {
        "id": to_str(doc_id),
        "content": content if isinstance(content, str) else None,
        "score": to_float(score),
        "metadata": metadata or None,
    }
