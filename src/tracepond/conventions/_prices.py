"""Cost of an LLM or embedding call from its provider, model, token counts and date.

Prices come from price overrides (a ``--prices`` file, parsed by ``tracepond.price_file``) and
then from the bundled table: genai-prices' own, copied into ``prices.json`` at build time
(``_bundled_prices``; genai-prices is not imported at run time, nothing is ever downloaded).
``genai_prices.calc_price`` takes ~90 µs per call (a model scan and Decimal arithmetic), twice
what decoding a whole span costs, so a ``PriceTable`` resolves each (provider, model) once into
plain float rates per price period, keeps the result in a bounded LRU cache, and prices each
span with a few multiplications. Pure: no I/O but reading the package's own table.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any, Final

from tracepond.conventions._bundled_prices import bundled_prices
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


def _bundled_periods(provider: str | None, name: str) -> tuple[Period, ...]:
    """The model's price periods in the bundled table. A call whose provider is named but not in
    the table (ollama, vllm, a company gateway) is not priced by the model name alone: the same
    name served there is not billed at the vendor's price."""
    vendor = None if provider is None else GENAI_PRICES_PROVIDERS.get(provider, provider)
    found = bundled_prices().find(vendor, name)
    if found is None:
        return ()
    vendor_id, model_id, periods = found
    return _periods(periods, f"genai-prices:{vendor_id}/{model_id}")


def _periods(periods: list[Any], label: str) -> tuple[Period, ...]:
    """genai-prices' rule: the last active period applies, else the first one."""
    found: list[Period] = []
    for constraint, prices in reversed(periods):
        rates = _rates(prices)
        if rates is not None:
            found.append((_active(constraint), rates, label))
    if periods and periods[0][0] is not None:  # else the first period always applies anyway
        fallback = _rates(periods[0][1])
        if fallback is not None:
            found.append((_always, fallback, label))
    return tuple(found)


def _rates(prices: list[Any] | None) -> Rates | None:
    """The rates tracepond can apply (tokens and requests); None when the model is priced by
    something else only (audio hours, characters, pages)."""
    if prices is None:
        return None
    input_mtok, output_mtok, cache_read_mtok, cache_write_mtok, reasoning_mtok, requests = prices
    rates = Rates(
        input=_rate(input_mtok),
        output=_rate(output_mtok),
        cache_read=_rate(cache_read_mtok),
        cache_write=_rate(cache_write_mtok),
        reasoning=_rate(reasoning_mtok),
        per_request=float(requests or 0) / 1000,
    )
    if rates.input is None and rates.output is None and not rates.per_request:
        return None
    return rates


def _rate(per_million: float | list[Any] | None) -> Rate | None:
    if per_million is None:
        return None
    if isinstance(per_million, list):
        base, tiers = per_million
        rates = sorted(((start, price * _PER_MILLION) for start, price in tiers), reverse=True)
        return (base * _PER_MILLION, tuple(rates))
    return per_million * _PER_MILLION


def _always(_start_ns: int) -> bool:
    return True


def _active(constraint: list[str] | None) -> Callable[[int], bool]:
    """A period's constraint as a test on a span's start (ns since the epoch, UTC)."""
    if constraint is None:
        return _always
    kind, *values = constraint
    if kind == "from":
        since = _day_ns(date.fromisoformat(values[0]))
        return lambda start_ns: start_ns >= since
    if kind == "time":  # a daily window, UTC
        first, last = (_day_us(time.fromisoformat(value)) for value in values)
        if last < first:  # wraps past midnight
            return lambda start_ns: not last <= (start_ns // _NS_PER_US) % _US_PER_DAY < first
        return lambda start_ns: first <= (start_ns // _NS_PER_US) % _US_PER_DAY < last
    raise ValueError(f"prices.json: unknown price constraint {kind!r}")


def _day_ns(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * _NS_PER_DAY


def _day_us(moment: time) -> int:
    """Microseconds into the day of a time of day."""
    return ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 10**6 + moment.microsecond


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
