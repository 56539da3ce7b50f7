"""The planner's text as the rules read it: normalised, split into clauses for context, with the
phrases a rule has used masked so that no later rule reads them again."""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator

from agents.extraction_rules.numbers import normalise

MASK = "\u00a6"  # stands in for each character of a phrase a rule has used
_CLAUSE_END = re.compile(r"\.(?!\d)|[;!?\n]|,(?!\s*\d{4}\b)")
# A clause with these words is about markdowns: its weeks, shares and dates are the markdown's.
MARKDOWN_CONTEXT = re.compile(
    r"mark[\s-]?downs?|\bmd\b|\bst\b|price\s+(?:cuts?|reductions?|drops?|reviews?|checks?)|discount|clearance|"
    r"checkpoint|"
    r"sell[\s-]*(?:through|thru)|sellthrough|re-?pric"
)


class PlannerText:
    """Normalised text; `masked` hides phrases that a rule has already used."""

    def __init__(self, text: str) -> None:
        self.text = normalise(text)
        self.masked = self.text
        self._clause_starts = [0, *(m.end() for m in _CLAUSE_END.finditer(self.text)), len(self.text)]

    def clause(self, position: int) -> str:
        """The clause (sentence or comma-separated part) around `position`."""
        i = bisect_right(self._clause_starts, position) - 1
        return self.text[self._clause_starts[i] : self._clause_starts[min(i + 1, len(self._clause_starts) - 1)]]

    def clause_before(self, position: int) -> str:
        """The clause up to `position`."""
        i = bisect_right(self._clause_starts, position) - 1
        return self.text[self._clause_starts[i] : position]

    def find(self, pattern: re.Pattern[str], context: re.Pattern[str] | None = None) -> Iterator[re.Match[str]]:
        """Matches of `pattern` in unused text, optionally only in clauses that match `context`."""
        for match in pattern.finditer(self.masked):
            if context is None or context.search(self.clause(match.start())):
                yield match

    def first(self, patterns: list[re.Pattern[str]], context: re.Pattern[str] | None = None) -> re.Match[str] | None:
        """The first match of the first pattern that matches, masked as used."""
        for pattern in patterns:
            for match in self.find(pattern, context):
                self.use(match)
                return match
        return None

    def use(self, match: re.Match[str]) -> None:
        """Mask a matched phrase so that later rules cannot read it again."""
        start, end = match.span()
        self.masked = self.masked[:start] + MASK * (end - start) + self.masked[end:]

    def wording(self, match: re.Match[str]) -> str:
        """The planner's (normalised) words behind a match, quoted for the reasoning."""
        return f'"{self.text[match.start() : match.end()].strip()}"'

