"""Cost of an LLM or embedding call from its provider, model, token counts and date.

Prices come from price overrides (a ``--prices`` file, parsed by ``tracepond.price_file``) and
then from the price table bundled with the ``genai-prices`` package (its ``data_snapshot``:
nothing is ever downloaded). ``genai_prices.calc_price`` takes ~90 µs per call (a model scan
and Decimal arithmetic), twice what decoding a whole span costs, so a ``PriceTable`` resolves
each (provider, model) once into plain float rates per price period, keeps the result in a
bounded LRU cache, and prices each span with a few multiplications. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Final

from tracepond.conventions._model import EMBEDDING, LLM, SpanView, Usage

# How cost_source says where a span's cost came from.
SENT: Final = "sent"
COMPUTED: Final = "computed"

# A model name longer than this is no real model's: it is not looked up (nor cached), so a
# client sending long or unique junk names costs neither scans of the price table nor cache room.
MAX_MODEL_CHARS: Final = 200
DEFAULT_CACHE_SIZE: Final = 4096
_NS_PER_DAY: Final = 86_400 * 10**9
_NS_PER_US: Final = 1000
_US_PER_DAY: Final = 86_400 * 10**6
_PER_MILLION: Final = 1e-6
_PRICED: Final = (LLM, EMBEDDING)

# A rate in USD per token: flat, or tiered as genai-prices tiers are (the whole prompt's size
# picks one rate for all its tokens): (base, ((threshold, rate), ... descending)).
Rate = float | tuple[float, tuple[tuple[int, float], ...]]


@dataclass(frozen=True, slots=True)
class Rates:
    """One price period of one model, in USD per token (None: that kind of token has no price
    of its own, and is charged as the input or output it is part of)."""

    input: Rate | None = None
    output: Rate | None = None
    cache_read: Rate | None = None
    cache_write: Rate | None = None
    reasoning: Rate | None = None
    per_request: float = 0.0

    def cost(self, usage: Usage) -> float:
        """USD for ``usage``. Cache tokens are part of the input and reasoning tokens part of the
        output (OTel's reading, and genai-prices'); a producer that reports more cache tokens
        than input tokens (Anthropic's own API shape) sent the input without them, and the same
        holds for reasoning beyond the output."""
        tokens_in = usage.input_tokens or 0
        tokens_out = usage.output_tokens or 0
        read = (usage.cache_read_tokens or 0) if self.cache_read is not None else 0
        write = (usage.cache_write_tokens or 0) if self.cache_write is not None else 0
        reasoning = (usage.reasoning_tokens or 0) if self.reasoning is not None else 0
        cached = read + write
        if cached <= tokens_in:
            prompt, uncached = tokens_in, tokens_in - cached
        else:
            prompt, uncached = tokens_in + cached, tokens_in
        answer = tokens_out - reasoning if reasoning <= tokens_out else tokens_out
        return (
            self.per_request
            + _charge(self.input, uncached, prompt)
            + _charge(self.cache_read, read, prompt)
            + _charge(self.cache_write, write, prompt)
            + _charge(self.output, answer, prompt)
            + _charge(self.reasoning, reasoning, prompt)
        )


def _charge(rate: Rate | None, tokens: int, prompt: int) -> float:
    if rate is None or not tokens:
        return 0.0
    if type(rate) is float:
        return rate * tokens
    base, tiers = rate  # type: ignore[misc]
    for threshold, tier_rate in tiers:
        if prompt > threshold:
            return float(tier_rate * tokens)
    return float(base * tokens)


@dataclass(frozen=True, slots=True)
class PriceOverride:
    """One entry of a price file: a model glob (matched case-insensitively against the whole
    model name), an optional provider (canonical name), rates, and the first day they apply."""

    pattern: str
    rates: Rates
    provider: str | None = None
    start: date | None = None
    matches: Callable[[str], Any] | None = None  # the compiled pattern

    @property
    def label(self) -> str:
        return f"override:{self.pattern}"

    @property
    def start_ns(self) -> int:
        return -1 if self.start is None else _day_ns(self.start)


# One period of a resolved model: whether it applies to a span starting at ns, its rates and
# the price entry named in cost_price.
Period = tuple[Callable[[int], bool], Rates, str]


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a (provider, model) resolves to: override periods, newest first (the first whose
    start has passed wins), then the bundled table's periods, last defined first (genai-prices'
    rule: the last active one wins, and the first one when none is)."""

    overrides: tuple[tuple[int, Rates, str], ...]
    periods: tuple[Period, ...]

    def at(self, start_ns: int) -> tuple[Rates, str] | None:
        for since, rates, label in self.overrides:
            if start_ns >= since:
                return rates, label
        for active, rates, label in self.periods:
            if active(start_ns):
                return rates, label
        return None


class PriceTable:
    """Overrides, then the bundled genai-prices table; resolutions cached per (provider, model).

    Picklable (decode workers get the same table): only the overrides travel, and each process
    builds its own cache."""

    def __init__(
        self,
        overrides: Sequence[PriceOverride] = (),
        *,
        bundled: bool = True,
        cache_size: int = DEFAULT_CACHE_SIZE,
        source: str | None = None,
    ) -> None:
        self.overrides = tuple(overrides)
        self.bundled = bundled
        self.cache_size = cache_size
        self.source = source  # the price file, for messages
        self._cache: OrderedDict[tuple[str | None, str], Resolved | None] = OrderedDict()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.overrides, self.bundled, self.cache_size, self.source))

    def price(self, provider: str | None, model: str, start_ns: int) -> tuple[Rates, str] | None:
        """The rates for a call to ``model`` that started at ``start_ns`` and the price entry
        they come from, or None when nothing prices it."""
        if len(model) > MAX_MODEL_CHARS or (
            provider is not None and len(provider) > MAX_MODEL_CHARS
        ):
            return None
        key = (provider, model)
        cache = self._cache
        resolved = cache.get(key, _MISSING)
        if resolved is _MISSING:
            resolved = cache[key] = self._resolve(provider, model)
            if len(cache) > self.cache_size:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return None if resolved is None else resolved.at(start_ns)  # type: ignore[union-attr]

    def cached(self) -> int:
        return len(self._cache)

    def warm(self) -> None:
        """Load the bundled table now (~0.2 s), not at the first span that needs it."""
        if self.bundled:
            _snapshot()

    def _resolve(self, provider: str | None, model: str) -> Resolved | None:
        name = model.lower()
        overrides = _matching_overrides(self.overrides, provider, name)
        periods = _bundled_periods(provider, name) if self.bundled else ()
        if not overrides and not periods:
            return None
        return Resolved(overrides, periods)


_MISSING: Final[Any] = object()
_default_table: PriceTable | None = None


def default_prices() -> PriceTable:
    """The process's table without overrides (the bundled one), shared so that its cache is."""
    global _default_table
    if _default_table is None:
        _default_table = PriceTable()
    return _default_table


def _rebuild(
    overrides: tuple[PriceOverride, ...], bundled: bool, cache_size: int, source: str | None
) -> PriceTable:
    return PriceTable(overrides, bundled=bundled, cache_size=cache_size, source=source)


def _matching_overrides(
    overrides: tuple[PriceOverride, ...], provider: str | None, name: str
) -> tuple[tuple[int, Rates, str], ...]:
    """The first matching pattern's entries (a pattern listed with several ``from`` dates is
    one price history), newest first."""
    first: PriceOverride | None = None
    for entry in overrides:
        if entry.provider is not None and entry.provider != provider:
            continue
        if entry.matches is not None and entry.matches(name):
            first = entry
            break
    if first is None:
        return ()
    history = [
        entry
        for entry in overrides
        if entry.pattern == first.pattern and entry.provider == first.provider
    ]
    history.sort(key=lambda entry: entry.start_ns, reverse=True)
    return tuple((entry.start_ns, entry.rates, entry.label) for entry in history)


# ---------------------------------------------------------------------------------------------
# The bundled genai-prices table.

# Canonical provider names (conventions._tables.PROVIDER_ALIASES) -> genai-prices provider ids.
# Other names are looked up as they are (groq, deepseek, cohere...).
GENAI_PRICES_PROVIDERS: Final = {
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "aws.bedrock": "aws",
    "gcp.vertex_ai": "google",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "x_ai": "x-ai",
    "mistral_ai": "mistral",
    "moonshot_ai": "moonshotai",
}


def _snapshot() -> Any:
    # The bundled snapshot only: never genai-prices' UpdatePrices, which downloads.
    from genai_prices import data_snapshot

    return data_snapshot._bundled_snapshot()


def _bundled_periods(provider: str | None, name: str) -> tuple[Period, ...]:
    """The model's price periods in the bundled table. A call whose provider is named but not in
    the table (ollama, vllm, a company gateway) is not priced by the model name alone: the same
    name served there is not billed at the vendor's price."""
    found = _find_model(_snapshot().providers, provider, name)
    if found is None:
        return ()
    vendor, model = found
    return _periods(model.prices, f"genai-prices:{vendor.id}/{model.id}")


def _find_model(providers: list[Any], provider: str | None, name: str) -> tuple[Any, Any] | None:
    """genai-prices' own lookup (``DataSnapshot.find_provider_model``) without its caches, which
    keep every model name ever asked for: this table's bounded cache is the only one."""
    from genai_prices.data_snapshot import find_provider_by_id

    if provider is not None:
        vendor = find_provider_by_id(providers, GENAI_PRICES_PROVIDERS.get(provider, provider))
    else:
        matching = (p for p in providers if p.model_match and p.model_match.is_match(name))
        vendor = next(matching, None)
    if vendor is None:
        return None
    model = vendor.find_model(name, all_providers=providers)
    return None if model is None else (vendor, model)


def _periods(prices: Any, label: str) -> tuple[Period, ...]:
    from genai_prices.types import ConditionalPrice

    if not isinstance(prices, list):
        rates = _rates(prices)
        return () if rates is None else ((_always, rates, label),)
    if not prices:
        return ()
    periods: list[Period] = []
    for conditional in reversed(prices):
        assert isinstance(conditional, ConditionalPrice)
        rates = _rates(conditional.prices)
        if rates is not None:
            periods.append((_active(conditional.constraint), rates, label))
    fallback = _rates(prices[0].prices)
    if fallback is not None:
        periods.append((_always, fallback, label))
    return tuple(periods)


def _rates(model_price: Any) -> Rates | None:
    """The rates tracepond can apply (tokens and requests); None when the model is priced by
    something else only (audio hours, characters, pages)."""
    values = model_price.__dict__
    rates = Rates(
        input=_rate(values.get("input_mtok")),
        output=_rate(values.get("output_mtok")),
        cache_read=_rate(values.get("cache_read_mtok")),
        cache_write=_rate(values.get("cache_write_mtok")),
        reasoning=_rate(values.get("output_reasoning_mtok")),
        per_request=float(values.get("requests_kcount") or 0) / 1000,
    )
    if rates.input is None and rates.output is None and not rates.per_request:
        return None
    return rates


def _rate(value: Any) -> Rate | None:
    from genai_prices.types import TieredPrices

    if value is None:
        return None
    if isinstance(value, TieredPrices):
        tiers = sorted(
            ((tier.start, float(tier.price) * _PER_MILLION) for tier in value.tiers),
            reverse=True,
        )
        return (float(value.base) * _PER_MILLION, tuple(tiers))
    return float(value) * _PER_MILLION


def _always(_start_ns: int) -> bool:
    return True


def _active(constraint: Any) -> Callable[[int], bool]:
    """genai-prices' constraint as a test on a span's start (ns since the epoch, UTC)."""
    from genai_prices.types import StartDateConstraint, TimeOfDateConstraint

    if constraint is None:
        return _always
    if isinstance(constraint, StartDateConstraint):
        since = _day_ns(constraint.start_date)
        return lambda start_ns: start_ns >= since
    if isinstance(constraint, TimeOfDateConstraint):
        first, last = _day_us(constraint.start_time), _day_us(constraint.end_time)
        if last < first:  # wraps past midnight
            return lambda start_ns: not last <= (start_ns // _NS_PER_US) % _US_PER_DAY < first
        return lambda start_ns: first <= (start_ns // _NS_PER_US) % _US_PER_DAY < last
    return lambda start_ns: bool(constraint.active(_datetime(start_ns)))


def _day_ns(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * _NS_PER_DAY


def _day_us(moment: time) -> int:
    """Microseconds into the UTC day of a time of day (naive = UTC)."""
    if moment.tzinfo is not None:
        moment = datetime.combine(date(1970, 1, 1), moment).astimezone(UTC).timetz()
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 10**6 + moment.microsecond


def _datetime(start_ns: int) -> datetime:
    return datetime.fromtimestamp(start_ns / 1e9, tz=UTC)


_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


# ---------------------------------------------------------------------------------------------
# Spans.


def price_view(view: SpanView, start_ns: int, table: PriceTable | None) -> None:
    """Fill ``view.cost`` (with ``cost_source`` "computed" and ``cost_price``) for an LLM or
    embedding call with token counts and no cost of its own. The response model (what ran) is
    priced first, then the request model when the response model has no price."""
    if (
        table is None
        or view.cost is not None
        or view.category not in _PRICED
        or view.usage.is_empty()
    ):
        return
    found = None
    model = view.model
    if model is not None:
        found = table.price(view.provider, model, start_ns)
    request_model = view.request_model
    if found is None and request_model is not None and request_model != model:
        found = table.price(view.provider, request_model, start_ns)
    if found is None:
        return
    rates, label = found
    cost = rates.cost(view.usage)
    if math.isfinite(cost):
        view.cost = cost
        view.cost_source = COMPUTED
        view.cost_price = label
