"""The bundled price table: which model of which provider a call names, by genai-prices' rules.

``prices.json`` is a compact copy of the ``genai-prices`` package's bundled table, written by
scripts/generate_prices.py (its docstring describes the format). Importing genai-prices itself
builds ~2,300 pydantic objects, ~25 MB in every decoding process; this copy loads in a few
milliseconds and a few MB, on the first lookup (the first priced span), so a process that
prices nothing never loads it.

Lookups follow genai-prices' ``DataSnapshot.find_provider_model``: a named provider by id, else
by its ``provider_match`` rule; no provider: the first provider whose ``model_match`` rule claims
the name (only that one is searched, as in genai-prices); then the first of that provider's
models whose rule matches, then its fallback providers' own models, then all of it again with a
compact date suffix (``-20251211``) rewritten to genai-prices' ``-2025-12-11``. Each provider's
model rules are compiled, on the first lookup that reaches the provider, into one regular
expression whose alternatives are its models in order: the first model that matches wins, and a
name that no model matches costs one pass of the regex engine, not a scan in Python. Pure: reads
only the package's own file.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Final

# (genai-prices provider id, model id, the model's price periods as prices.json holds them)
Found = tuple[str, str, list[Any]]

_TABLE: Final = Path(__file__).with_name("prices.json")
_NEVER: Final = "(?!)"  # the rule of a provider without one: matches nothing
_COMPACT_DATE: Final = re.compile(r"(-)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)")


# A compiled _Rules: exact name -> first rule, the pattern, and the rule of each group number.
_Compiled = tuple[dict[str, int], re.Pattern[str], list[int]]


class _Rules:
    """Match rules tried in order: which one matches a name first.

    Exact names (``equals`` rules, and the ``equals`` branches of ``or`` rules: most of the
    table) go into a dict of name -> first rule; the other rules and branches are joined into
    one pattern. Both are built on the first lookup and published as one value, so that a
    thread looking up meanwhile builds its own or sees them whole. The first matching rule is
    the lower of the two answers."""

    __slots__ = ("_clauses", "_compiled")

    def __init__(self, clauses: list[Any]) -> None:
        self._clauses = clauses
        self._compiled: _Compiled | None = None

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def first(self, name: str) -> int | None:
        """The index of the first rule matching ``name`` (lower-cased), or None."""
        exact, pattern, rule_of_group = self._compiled or self.compile()
        in_dict = exact.get(name)
        found = pattern.match(name)
        if found is None:
            return in_dict
        matched = rule_of_group[found.lastindex or 0]
        return matched if in_dict is None or matched < in_dict else in_dict

    def compile(self) -> _Compiled:
        """The patterned rules become alternatives in rule order, each ended by an empty
        group: the last group a match closes is that marker, so ``lastindex`` names the first
        patterned rule that matched (groups of a rule's own regex come before its marker; the
        generator refuses back-references, which joining would renumber)."""
        if self._compiled is not None:
            return self._compiled
        exact: dict[str, int] = {}
        parts: list[str] = []
        rule_of_group = [-1]  # group 0 is the whole match
        for index, clause in enumerate(self._clauses):
            names, rest = _split_exact(clause)
            for name in names:
                exact.setdefault(name, index)
            if rest:
                rule_of_group.extend([-1] * sum(_groups(branch) for branch in rest))
                rule_of_group.append(index)
                parts.append("(?:" + "|".join(_regex(branch) for branch in rest) + ")()")
        self._compiled = (exact, re.compile("|".join(parts) or _NEVER), rule_of_group)
        return self._compiled


def _split_exact(clause: list[Any] | None) -> tuple[list[str], list[list[Any]]]:
    """A rule as the exact names it matches and the branches that need a pattern."""
    if clause is None:
        return [], []
    branches = clause[1] if clause[0] == "or" else [clause]
    names = [branch[1] for branch in branches if branch[0] == "equals"]
    return names, [branch for branch in branches if branch[0] != "equals"]


def _groups(clause: list[Any] | None) -> int:
    """How many capturing groups the rule's regexes hold."""
    if clause is None:
        return 0
    kind, value = clause
    if kind == "regex":
        return re.compile(value).groups
    if kind in ("or", "and"):
        return sum(_groups(sub) for sub in value)
    return 0


def _regex(clause: list[Any] | None) -> str:
    """A genai-prices match rule as a pattern matched at the start of a lower-cased name."""
    if clause is None:
        return _NEVER
    kind, value = clause
    if kind == "or":
        return "(?:" + "|".join(_regex(sub) for sub in value) + ")"
    if kind == "and":
        return "".join("(?=" + _regex(sub) + ")" for sub in value)
    text: str = value
    if kind == "equals":
        return re.escape(text) + r"\Z"
    if kind == "starts_with":
        return re.escape(text)
    if kind == "ends_with":
        return "(?s:.*)" + re.escape(text) + r"\Z"
    if kind == "contains":
        return "(?s:.*?)" + re.escape(text)
    if kind == "regex":  # genai-prices: re.search(text, name)
        return "(?s:.*?)(?:" + text + ")"
    raise ValueError(f"prices.json: unknown match rule {kind!r}")


class _Provider:
    __slots__ = ("fallback", "id", "models", "rules")

    def __init__(self, raw: dict[str, Any]) -> None:
        self.id: str = raw["id"]
        self.fallback: list[str] = raw["fallback"] or []
        self.models: list[list[Any]] = raw["models"]  # [id, rule, periods]
        self.rules = _Rules([model[1] for model in self.models])

    def match(self, name: str) -> list[Any] | None:
        index = self.rules.first(name)
        return None if index is None else self.models[index]


class BundledPrices:
    """The parsed ``prices.json``; see the module's docstring for how a lookup goes."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.source: str = data["source"]  # "genai-prices <version>"
        raw = data["providers"]
        self._providers = [_Provider(provider) for provider in raw]
        self._by_id = {provider.id: provider for provider in self._providers}
        self._provider_rules = _Rules([provider["provider_match"] for provider in raw])
        self._model_rules = _Rules([provider["model_match"] for provider in raw])

    def find(self, provider_id: str | None, name: str) -> Found | None:
        """The model a call to ``name`` (lower-cased) names at ``provider_id`` (genai-prices'
        id), or None: an unknown provider, or no model of it matches."""
        provider = (
            self._provider_named(provider_id)
            if provider_id is not None
            else self._provider_of_model(name)
        )
        if provider is None:
            return None
        model = self._find_model(provider, name)
        if model is None:
            normalized = _COMPACT_DATE.sub(_dashed_date, name)
            if normalized != name:
                model = self._find_model(provider, normalized)
        return None if model is None else (provider.id, model[0], model[2])

    def compile_all(self) -> None:
        """Compile every rule now (the generator checks that they compile)."""
        for rules in (self._provider_rules, self._model_rules):
            rules.compile()
        for provider in self._providers:
            provider.rules.compile()

    def compiled_providers(self) -> list[str]:
        """The providers whose model rules a lookup has compiled so far (for tests)."""
        return [p.id for p in self._providers if p.rules.compiled]

    def _provider_named(self, provider_id: str) -> _Provider | None:
        normalized = provider_id.lower().strip()
        found = self._by_id.get(normalized)
        if found is not None:
            return found
        index = self._provider_rules.first(normalized)
        return None if index is None else self._providers[index]

    def _provider_of_model(self, name: str) -> _Provider | None:
        index = self._model_rules.first(name)
        return None if index is None else self._providers[index]

    def _find_model(self, provider: _Provider, name: str) -> list[Any] | None:
        """The provider's own models, then its fallback providers' own (one step only)."""
        model = provider.match(name)
        if model is not None:
            return model
        for fallback_id in provider.fallback:
            fallback = self._by_id.get(fallback_id)
            if fallback is not None:
                model = fallback.match(name)
                if model is not None:
                    return model
        return None


def _dashed_date(found: re.Match[str]) -> str:
    """``-20251211`` as ``-2025-12-11``, when it is a real date (genai-prices' retry)."""
    year, month, day = (int(found.group(index)) for index in range(2, 5))
    try:
        date(year, month, day)
    except ValueError:
        return found.group(0)
    return f"{found.group(1)}{year:04d}-{month:02d}-{day:02d}"


_loaded: BundledPrices | None = None


def bundled_prices() -> BundledPrices:
    """The package's table, read on the first call (concurrent first calls may both read it;
    one wins, the same either way)."""
    global _loaded
    if _loaded is None:
        _loaded = BundledPrices(json.loads(_TABLE.read_bytes()))
    return _loaded


def is_loaded() -> bool:
    return _loaded is not None
