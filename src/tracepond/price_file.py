"""The ``--prices`` file: price overrides and custom models, read once at start (docs/cost.md).

A YAML list of entries (or a mapping whose ``prices`` key holds that list)::

    - model: "ft:gpt-4o-mini:acme:*"   # glob, whole name, case-insensitive
      provider: openai                 # optional: only calls to this provider
      input: 0.30                      # USD per million tokens
      output: 1.20
      cache_read: 0.15                 # optional: cache_write, reasoning too
      from: 2025-01-01                 # optional: spans that started on or after this day (UTC)

Any problem fails the start with an InvalidPriceFile naming the file, the entry and its line.
"""

from __future__ import annotations

import fnmatch
import math
import re
from datetime import date
from pathlib import Path
from typing import Any, Final

import yaml

from tracepond.conventions import PriceOverride, PriceTable, Rates
from tracepond.conventions._tables import PROVIDER_ALIASES
from tracepond.errors import InvalidPriceFile

RATE_KEYS: Final = ("input", "output", "cache_read", "cache_write", "reasoning")
KEYS: Final = frozenset({"model", "provider", "from", *RATE_KEYS})
MAX_PATTERN_CHARS: Final = 200
# A price per million tokens beyond this is a typo (per token instead of per million?).
MAX_PRICE: Final = 1e6
_PER_MILLION: Final = 1e-6


def load_price_table(path: Path | None) -> PriceTable:
    """The price table for a server or reindex run: the file's overrides (if any) before the
    bundled genai-prices table."""
    if path is None:
        return PriceTable()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidPriceFile(f"price file {path}: cannot read it: {exc}") from None
    return PriceTable(parse_prices(text, str(path)), source=str(path))


def parse_prices(text: str, name: str) -> list[PriceOverride]:
    """The entries of a price file's ``text``; ``name`` names it in errors."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InvalidPriceFile(f"price file {name}{where}: not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise InvalidPriceFile(f"price file {name}: not valid YAML: {exc}") from None
    if isinstance(data, dict) and set(data) == {"prices"}:
        data = data["prices"]
        root = root.value[0][1] if root is not None else None
    if data is None:
        return []
    if not isinstance(data, list):
        raise InvalidPriceFile(
            f"price file {name}: expected a list of entries (or `prices:` holding one)"
        )
    nodes = root.value if root is not None else []
    return [
        _entry(item, f"price file {name}, entry {index + 1} (line {node.start_mark.line + 1})")
        for index, (item, node) in enumerate(zip(data, nodes, strict=True))
    ]


def _entry(item: Any, where: str) -> PriceOverride:
    if not isinstance(item, dict):
        raise InvalidPriceFile(f"{where}: expected a mapping with `model` and prices")
    unknown = sorted(str(key) for key in item if key not in KEYS)
    if unknown:
        raise InvalidPriceFile(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}"
        )
    pattern = item.get("model")
    if not isinstance(pattern, str) or not pattern.strip():
        raise InvalidPriceFile(f"{where}: `model` must be a model name or glob pattern")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise InvalidPriceFile(f"{where}: `model` is longer than {MAX_PATTERN_CHARS} characters")
    rates = {key: _price(item[key], key, where) for key in RATE_KEYS if key in item}
    if "input" not in rates and "output" not in rates:
        raise InvalidPriceFile(f"{where}: give at least `input` or `output` (USD per 1M tokens)")
    return PriceOverride(
        pattern=pattern,
        rates=Rates(**rates),
        provider=_provider(item.get("provider"), where),
        start=_start(item.get("from"), where),
        matches=_glob(pattern),
    )


def _glob(pattern: str) -> Any:
    # fnmatch's translation has no nested quantifiers (no catastrophic backtracking), and it
    # runs once per (provider, model) the table has not seen, on names of at most 200 chars.
    return re.compile(fnmatch.translate(pattern.lower()), re.DOTALL).match


def _price(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidPriceFile(f"{where}: `{key}` must be a number (USD per 1M tokens)")
    price = float(value)
    if not math.isfinite(price) or not 0 <= price <= MAX_PRICE:
        raise InvalidPriceFile(f"{where}: `{key}` must be between 0 and {MAX_PRICE:g}")
    return price * _PER_MILLION


def _provider(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidPriceFile(f"{where}: `provider` must be a provider name such as openai")
    name = value.strip().lower()
    # The provider as spans' views name it (aws -> aws.bedrock); names tracepond does not
    # know are compared as they are.
    canonical = PROVIDER_ALIASES.get(name, name)
    if canonical is None:
        raise InvalidPriceFile(f"{where}: `provider` {value!r} is a framework, not a provider")
    return canonical


def _start(value: Any, where: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):  # YAML reads 2025-01-01 as a date already
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidPriceFile(f"{where}: `from` must be a date such as 2025-01-01")
