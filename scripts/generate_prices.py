"""Write src/tracepond/conventions/prices.json from the installed genai-prices package.

tracepond prices LLM calls from genai-prices' bundled table, but importing that package builds
~2,300 pydantic model objects (~25-30 MB in every decoding process). The server reads this
compact copy instead: per provider its matching rules and, per model, its match rule and dated
token prices, nothing else. Run it after upgrading genai-prices (a test fails until the shipped
file equals what this writes), then ``tracepond reindex`` re-prices stored spans:

    .venv/bin/python scripts/generate_prices.py [--check]

Format (read by ``tracepond.conventions._bundled_prices``)::

    {"source": "genai-prices <version>", "providers": [
    {"id": ..., "model_match": CLAUSE|null, "provider_match": CLAUSE|null,
     "fallback": [provider id, ...]|null, "models": [
    [model id, CLAUSE, [[CONSTRAINT, PRICES], ...]],  <- one line per model
    ...]}, ...]}

    CLAUSE      ["equals"|"starts_with"|"ends_with"|"contains", lower-cased text]
                | ["regex", pattern] | ["or"|"and", [CLAUSE, ...]]
    CONSTRAINT  null | ["from", "YYYY-MM-DD"] | ["time", "HH:MM:SS[.ffffff]", same] (UTC)
    PRICES      null (priced only by units tracepond does not count: audio, pages...)
                | [input, output, cache_read, cache_write, reasoning, requests]
    each price  null | USD per million tokens (per thousand requests) | [base, [[start, USD], ...]]

The periods are genai-prices' in its order (the last active one applies, else the first).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, date, datetime, time
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

from genai_prices.data_snapshot import _bundled_snapshot
from genai_prices.types import (
    ClauseAnd,
    ClauseContains,
    ClauseEndsWith,
    ClauseEquals,
    ClauseOr,
    ClauseRegex,
    ClauseStartsWith,
    ConditionalPrice,
    ModelPrice,
    StartDateConstraint,
    TieredPrices,
    TimeOfDateConstraint,
)

TARGET = Path(__file__).resolve().parent.parent / "src/tracepond/conventions/prices.json"

# genai-prices' price keys that tracepond applies, in the order of a PRICES row.
PRICE_KEYS = (
    "input_mtok",
    "output_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "output_reasoning_mtok",
    "requests_kcount",
)
_BACK_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")
_TEXT_CLAUSES: tuple[tuple[type[Any], str], ...] = (
    (ClauseEquals, "equals"),
    (ClauseStartsWith, "starts_with"),
    (ClauseEndsWith, "ends_with"),
    (ClauseContains, "contains"),
)


def generate() -> str:
    """The file's text for the installed genai-prices."""
    providers = _bundled_snapshot().providers
    lines = ['{"source": ' + _dump(f"genai-prices {version('genai-prices')}") + ', "providers": [']
    for index, provider in enumerate(providers):
        head = {
            "id": provider.id,
            "model_match": _clause(provider.model_match),
            "provider_match": _clause(provider.provider_match),
            "fallback": provider.fallback_model_providers,
        }
        lines.append(_dump(head)[:-1] + ', "models": [')
        rows = [
            _dump([model.id, _clause(model.match), _periods(model.prices)])
            for model in provider.models
        ]
        lines.append(",\n".join(rows))
        lines.append("]}" + ("," if index < len(providers) - 1 else ""))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def _dump(value: Any) -> str:
    # Floats are written by repr, which reads back as the very same float.
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _clause(clause: Any) -> list[Any] | None:
    if clause is None:
        return None
    for kind, name in _TEXT_CLAUSES:
        if isinstance(clause, kind):
            # genai-prices lower-cases both sides of these; the model name is lowered once.
            return [name, getattr(clause, name).lower()]
    if isinstance(clause, ClauseRegex):
        if _BACK_REFERENCE.search(clause.regex):
            # A provider's rules are joined into one pattern, which renumbers groups.
            raise ValueError(f"regex with a back-reference: {clause.regex!r}")
        return ["regex", clause.regex]
    if isinstance(clause, ClauseOr):
        return ["or", [_clause(sub) for sub in clause.or_]]
    if isinstance(clause, ClauseAnd):
        return ["and", [_clause(sub) for sub in clause.and_]]
    raise ValueError(f"unknown match clause {clause!r}: teach generate_prices.py and the reader")


def _periods(prices: ModelPrice | list[ConditionalPrice]) -> list[list[Any]]:
    if not isinstance(prices, list):
        return [[None, _prices(prices)]]
    return [[_constraint(entry.constraint), _prices(entry.prices)] for entry in prices]


def _constraint(constraint: Any) -> list[str] | None:
    if constraint is None:
        return None
    if isinstance(constraint, StartDateConstraint):
        return ["from", constraint.start_date.isoformat()]
    if isinstance(constraint, TimeOfDateConstraint):
        return ["time", _utc(constraint.start_time), _utc(constraint.end_time)]
    raise ValueError(f"unknown constraint {constraint!r}: teach generate_prices.py and the reader")


def _utc(moment: time) -> str:
    """A time of day in UTC (genai-prices reads a naive one as UTC)."""
    if moment.tzinfo is not None:
        moment = datetime.combine(date(1970, 1, 1), moment).astimezone(UTC).time()
    return moment.isoformat()


def _prices(model_price: ModelPrice) -> list[Any] | None:
    values = model_price.__dict__
    row = [_price(values.get(key)) for key in PRICE_KEYS]
    return row if any(value is not None for value in row) else None


def _price(value: Decimal | TieredPrices | None) -> float | list[Any] | None:
    if value is None:
        return None
    if isinstance(value, TieredPrices):
        return [float(value.base), [[tier.start, float(tier.price)] for tier in value.tiers]]
    return float(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the shipped file is out of date"
    )
    args = parser.parse_args()
    text = generate()
    _check_readable(text)
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run scripts/generate_prices.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET} ({len(text.encode()):,} bytes)")
    return 0


def _check_readable(text: str) -> None:
    """Every provider's rules compile as tracepond will compile them."""
    # This checkout's reader, also when the environment installed another one.
    sys.path.insert(0, str(TARGET.parents[2]))
    from tracepond.conventions._bundled_prices import BundledPrices

    BundledPrices(json.loads(text)).compile_all()


if __name__ == "__main__":
    sys.exit(main())
