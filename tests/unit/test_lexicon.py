"""The offline lexicon engine."""

from __future__ import annotations

import pytest
from reviewpulse.analysis.base import Label
from reviewpulse.analysis.lexicon import _TOKEN, WINDOW_TOKENS, LexiconAnalyzer, _windows


@pytest.fixture(scope="module")
def analyzer() -> LexiconAnalyzer:
    return LexiconAnalyzer()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I absolutely love this, best purchase ever!", Label.POSITIVE),
        ("Terrible quality. It broke on day one and support was useless.", Label.NEGATIVE),
        ("The package contains one cable and a manual.", Label.NEUTRAL),
        ("The camera is amazing and beautiful, but the battery is awful and the charger is horrible.", Label.MIXED),
    ],
)
def test_clear_texts_get_their_obvious_label(analyzer, text, label):
    assert analyzer.analyze_one(text).label is label


def test_scores_and_confidences_stay_in_range(analyzer):
    texts = ["", "!!!", "😀" * 300, "no " * 2000, "GREAT!!! " * 500, "bad " * 1000 + "good " * 1000]
    for sentiment in analyzer.analyze(texts):
        assert -1.0 <= sentiment.score <= 1.0
        assert 0.0 <= sentiment.confidence <= 1.0


def test_sign_of_the_score_matches_the_label(analyzer):
    positive, negative = analyzer.analyze(["Wonderful, I am delighted", "Dreadful, I am furious"])
    assert positive.score > 0 > negative.score


def test_long_and_emoji_heavy_texts_are_scored_in_bounded_windows():
    # Given texts that make VADER's cost grow with the square of their length
    for text in ("😀😃😄😁" * 1250, "nice day " * 555, "word " * 5):
        windows = _windows(text)
        # Then each window holds at most WINDOW_TOKENS tokens, and together they cover the text
        assert all(len(_TOKEN.findall(window)) <= WINDOW_TOKENS for window in windows)
        assert "".join(windows) == text


def test_windowed_and_whole_scores_agree_in_direction(analyzer):
    long_praise = "I love the screen, it is wonderful and bright. " * 60
    long_complaint = "The hinge is broken and the fan is awful and loud. " * 60
    assert analyzer.analyze_one(long_praise).label is Label.POSITIVE
    assert analyzer.analyze_one(long_complaint).label is Label.NEGATIVE
