"""The nearest valid word to a mistyped one, for error messages ("did you mean `error`?")."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Close enough to be worth suggesting: "eror" → "error" (0.89), "durration" → "duration";
# "colour" → "model" (0.36) is not.
_CUTOFF = 0.6


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``word`` (case-insensitively), or None if none is close."""
    options = list(choices)
    by_lower = {choice.lower(): choice for choice in options}
    if word.lower() in by_lower:  # only the case differs: ERROR → error
        return by_lower[word.lower()]
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=_CUTOFF)
    if found:
        return by_lower[found[0]]
    # A word and its abbreviation: "ascending" → "asc", "dur" → "duration".
    related = [c for c in by_lower if len(word) >= 2 and _abbreviates(word.lower(), c)]
    return by_lower[related[0]] if len(related) == 1 else None


def _abbreviates(word: str, choice: str) -> bool:
    return word.startswith(choice) or choice.startswith(word)


def did_you_mean(suggestion: str | None) -> str:
    """`` Did you mean `x`?`` (with its leading space), or nothing without a suggestion."""
    return f" Did you mean `{suggestion}`?" if suggestion else ""


def one_of(choices: Iterable[str]) -> str:
    """``a, b or c`` (each in backticks), for "status is one of ..."."""
    words = [f"`{choice}`" for choice in choices]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
