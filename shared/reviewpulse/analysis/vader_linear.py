"""VADER with a cost linear in a text's length, and the same scores.

vaderSentiment 3.3.2 re-lowercases a text's whole word list in its negation and idiom checks, for
every sentiment word (up to three times each), and its "but" check looks every valence up with
`list.index`: the cost of a text grows with the square of its length. The checks only ever read
the three words before a word and the two after it, so they are handed just that slice; the "but"
check is replayed with an index of where each value sits. The library has no hook for this, hence
the overrides; tests compare every score with the unmodified library's.
"""

from __future__ import annotations

import heapq

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

# The negation and idiom checks read words i-3 .. i+2 around word i.
_BEFORE, _AFTER = 3, 3


class LinearVader(SentimentIntensityAnalyzer):
    @staticmethod
    def _negation_check(valence, words_and_emoticons, start_i, i):
        start = max(0, i - _BEFORE)
        return SentimentIntensityAnalyzer._negation_check(
            valence, words_and_emoticons[start : i + _AFTER], start_i, i - start
        )

    @staticmethod
    def _special_idioms_check(valence, words_and_emoticons, i):
        start = max(0, i - _BEFORE)
        return SentimentIntensityAnalyzer._special_idioms_check(
            valence, words_and_emoticons[start : i + _AFTER], i - start
        )

    @staticmethod
    def _but_check(words_and_emoticons, sentiments):
        """VADER's loop, step for step: for each value in turn, the *first* position holding that
        value (what list.index finds) is halved before the first "but" and raised by half after it."""
        but_at = next((k for k, word in enumerate(words_and_emoticons) if str(word).lower() == "but"), None)
        if but_at is None:
            return sentiments
        where: dict[float, list[int]] = {}  # value -> heap of the positions holding it now
        for position, value in enumerate(sentiments):
            where.setdefault(value, []).append(position)  # ascending: already a heap
        for step in range(len(sentiments)):
            value = sentiments[step]
            first = where[value][0]
            if first == but_at:
                continue
            heapq.heappop(where[value])
            changed = value * 0.5 if first < but_at else value * 1.5
            sentiments[first] = changed
            heapq.heappush(where.setdefault(changed, []), first)
        return sentiments
