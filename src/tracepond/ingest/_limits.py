"""What one span may hold, and the markers that say what was cut to fit.

Every string, container and attribute map a client sends is bounded here, so that the largest
stored span row has a known size (``SpanLimits.max_row_bytes``) and no request can make one row
too large for the database to write or checkpoint. What is over a limit is cut, never refused:

* a string value (and a bytes value) past ``max_value_bytes`` is cut;
* a span name, event name, attribute key, status message's neighbours (trace state, scope name
  and version, service name, the view's string columns) past ``max_name_bytes`` are cut;
* an array or kvlist past ``max_array_items`` keeps its first items;
* an attribute map past ``max_attributes`` keeps its first entries (the rest are dropped and
  counted in its ``dropped_attributes_count``);
* a span whose attributes, events and links together serialize to more than
  ``max_span_attribute_bytes`` loses its largest attributes first, then its last events and
  links (counted in ``dropped_attributes_count``/``dropped_events_count``/
  ``dropped_links_count``).

Each cut is listed in the span's ``truncated_attributes`` as one marker (see ``Marker``).
"""

from __future__ import annotations

from dataclasses import dataclass

# Appended to every cut string (values, names, keys), so that a reader sees that it was cut.
TRUNCATION_MARK = "…[truncated by tracepond]"
MARK_BYTES = len(TRUNCATION_MARK.encode())

# The span's ``truncated_attributes`` list is itself bounded: past this many bytes of markers,
# one last marker says how many more cuts there were.
MAX_MARKER_BYTES = 64 * 1024
# The string view columns (category, model, provider, session_id, user_id, tool_name,
# error_type), each bounded by max_name_bytes.
VIEW_STRING_COLUMNS = 7
# The span's own string columns bounded by max_name_bytes: name, trace_state, service_name,
# scope_name, scope_version.
NAME_COLUMNS = 5
# Ids, timestamps, counts and the other fixed-size columns, generously.
FIXED_ROW_BYTES = 256


@dataclass(frozen=True, slots=True)
class SpanLimits:
    # A string or bytes attribute value (and a status message) longer than this is cut.
    max_value_bytes: int = 4 * 1024 * 1024
    # A span name, event name, attribute key and other names longer than this are cut.
    max_name_bytes: int = 4 * 1024
    # The JSON of a span's attributes, events and links together (and of a resource's or
    # scope's attributes) is at most this many bytes.
    max_span_attribute_bytes: int = 8 * 1024 * 1024
    # Items kept of one array or kvlist value.
    max_array_items: int = 10_000
    # Entries kept of one attribute map (a span's, an event's, a link's, a resource's).
    max_attributes: int = 4_096

    @property
    def max_row_bytes(self) -> int:
        """The most bytes one stored span row can hold: attributes_json + events_json +
        links_json together, view_json, the status message, the name-bounded columns, the
        truncation markers and the fixed-size columns."""
        name = self.max_name_bytes + MARK_BYTES
        return (
            2 * self.max_span_attribute_bytes  # the attribute JSON, then view_json
            + self.max_value_bytes
            + MARK_BYTES  # status_message
            + (NAME_COLUMNS + VIEW_STRING_COLUMNS) * name
            + MAX_MARKER_BYTES
            + MAX_MARKER_TAIL_BYTES
            + FIXED_ROW_BYTES
        )


# The closing marker of a full list ("…and 123456789 more") and its JSON punctuation.
MAX_MARKER_TAIL_BYTES = 64


class Marker:
    """The spellings of ``truncated_attributes`` entries.

    A plain attribute key means its value was cut (a string, or an array/kvlist that lost items
    or holds a cut string); a key ending in TRUNCATION_MARK is a key that was itself cut. Keys of
    resource, scope, event and link attributes are prefixed ``resource:``, ``scope:``,
    ``event:<event name>:`` and ``link:<span id>:``. ``@`` names a field that is not an
    attribute: ``@name`` (the span's, or with a prefix an event's or the scope's),
    ``@status.message``, ``@trace_state``, ``scope:@version``, ``resource:@service_name`` (the
    service name column), ``resource:@schema_url``, ``@view.<column>`` (a view column).
    ``dropped:`` before a whole marker means that attribute (``dropped:event:<name>:<key>``),
    event (``dropped:event:<name>``) or link (``dropped:link:<span id>``) is not stored at all.
    """

    NAME = "@name"
    STATUS_MESSAGE = "@status.message"
    TRACE_STATE = "@trace_state"
    DROPPED = "dropped:"

    @staticmethod
    def view(column: str) -> str:
        return f"@view.{column}"

    @staticmethod
    def under(prefix: str, marker: str) -> str:
        """``marker`` of a nested map, under ``prefix``: ``dropped:`` stays in front."""
        if marker.startswith(Marker.DROPPED):
            return f"{Marker.DROPPED}{prefix}{marker[len(Marker.DROPPED) :]}"
        return f"{prefix}{marker}"

    @staticmethod
    def more(count: int) -> str:
        return f"…and {count} more"
