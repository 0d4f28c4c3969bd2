"""Did-you-mean suggestions for user-facing errors."""

from __future__ import annotations

from collections.abc import Iterable


def did_you_mean(word: str, candidates: Iterable[str], *, limit: int = 3) -> list[str]:
    """Candidates close to ``word`` (edit-distance ratio >= 0.6), best first."""
    import difflib  # only when something is wrong; a run that works never needs it

    return difflib.get_close_matches(word, list(candidates), n=limit, cutoff=0.6)
