"""The offline lexicon engine."""

from __future__ import annotations

import random

import pytest
from reviewpulse.analysis.calibration import Calibration, LabelModel
from reviewpulse.analysis.lexicon_analyzer import _TOKEN, NOT_READ_CONFIDENCE, WINDOW_TOKENS, LexiconAnalyzer, _windows
from reviewpulse.analysis.routing import needs_llm
from reviewpulse.analysis.sentiment import LANGUAGE_NOT_READ, Label, Sentiment
from reviewpulse.analysis.vader_linear import LinearVader
from reviewpulse_tools.bench.labelled_data import DEFAULT_DATA_DIR, load_sets
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

SHARED_DATA = DEFAULT_DATA_DIR


@pytest.fixture(scope="module")
def analyzer() -> LexiconAnalyzer:
    return LexiconAnalyzer()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I absolutely love this, best purchase ever!", Label.POSITIVE),
        ("Terrible quality. It broke on day one and support was useless.", Label.NEGATIVE),
        ("The package contains one cable and a manual.", Label.NEUTRAL),
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


def test_the_lexicon_never_answers_mixed(analyzer):
    # Given texts with clear praise and clear complaint in different clauses
    texts = [
        "The camera is amazing and beautiful, but the battery is awful and the charger is horrible.",
        "Great food. Terrible service.",
    ]
    # When analysed, Then each gets the label of its overall score's sign (mixed cost accuracy on real data)
    for sentiment in analyzer.analyze(texts):
        assert sentiment.label is not Label.MIXED
        assert sentiment.label is (Label.POSITIVE if sentiment.score > 0 else Label.NEGATIVE)


def _project_texts(count: int, seed: int) -> list[str]:
    """Texts that exercise every rule VADER has: negations, boosters, "but", idioms, caps, emoji."""
    words = (
        "good great not never no isn't but however very extremely kind of sort of the sh*t bomb "
        "cut me some slack yeah right without doubt so this least at GREAT AWFUL terrible love hate "
        "at least 😀 😡 :) :( ! ? product battery nor or"
    ).split()
    rnd = random.Random(seed)
    return [" ".join(rnd.choice(words) for _ in range(rnd.randint(1, WINDOW_TOKENS))) for _ in range(count)]


def test_linear_vader_scores_exactly_as_vader_on_project_made_texts():
    # Given texts that hit negation, idiom, booster and "but" rules at every position
    texts = _project_texts(3000, seed=11)
    original, linear = SentimentIntensityAnalyzer(), LinearVader()
    # When both score them, Then every score is identical
    assert [linear.polarity_scores(t) for t in texts] == [original.polarity_scores(t) for t in texts]


def test_texts_of_one_window_keep_vaders_compound(analyzer):
    texts = [text for text in _project_texts(300, seed=5) if len(_windows(text)) == 1]
    original = SentimentIntensityAnalyzer()
    assert texts
    assert [s.score for s in analyzer.analyze(texts)] == [
        round(max(-1.0, min(1.0, original.polarity_scores(t)["compound"])), 4) for t in texts
    ]


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not beside this repository")
def test_linear_vader_scores_exactly_as_vader_on_the_shared_labelled_data():
    # Given every labelled sentence in ../shared/data (all fit in one window)
    texts = [text for labelled in load_sets(SHARED_DATA) for text in labelled.texts]
    assert texts
    original, linear = SentimentIntensityAnalyzer(), LinearVader()
    # Then the linear-cost VADER gives each the very same scores
    assert [linear.polarity_scores(t) for t in texts] == [original.polarity_scores(t) for t in texts]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Das Produkt ist leider kaputt angekommen und der Kundendienst antwortet nicht.", "de"),
        ("この商品はすぐに壊れました。とても残念です。", "ja"),
    ],
)
def test_a_language_the_lexicon_does_not_read_gets_a_low_confidence_and_a_flag(analyzer, text, language):
    # When a German or Japanese review is analysed
    sentiment = analyzer.analyze_one(text)
    # Then its language is named, the label is a guess at chance confidence, and the flag says why
    assert sentiment.language == language
    assert sentiment.flag == LANGUAGE_NOT_READ
    assert sentiment.confidence == NOT_READ_CONFIDENCE < 1.0
    assert needs_llm(sentiment, threshold=0.0)


def test_english_is_read_and_short_texts_are_undetermined_not_guessed(analyzer):
    english, short = analyzer.analyze(["The battery lasts two days and the screen is bright.", "Terrible!"])
    assert (english.language, english.flag) == ("en", None)
    assert (short.language, short.flag) == ("und", None)
    assert short.label is Label.NEGATIVE


def test_confidence_comes_from_the_calibration_it_is_given():
    # Given a calibration that is sure of positive labels and unsure of negative ones
    sure = LabelModel(intercept=4.0, weights={})
    unsure = LabelModel(intercept=-1.0, weights={})
    analyzer = LexiconAnalyzer(Calibration({"positive": sure, "negative": unsure, "neutral": unsure}))
    positive, negative = analyzer.analyze(["I love this wonderful phone.", "I hate this awful phone."])
    # Then the confidences are the calibration's probabilities, never 1.0
    assert positive.confidence == pytest.approx(0.982, abs=1e-3)
    assert negative.confidence == pytest.approx(0.269, abs=1e-3)


def test_the_shipped_calibration_records_its_data_and_script():
    provenance = Calibration.shipped().provenance
    assert "calibrate.py" in provenance["script"]
    assert provenance["data"] and provenance["neutral_band"]


@pytest.mark.parametrize(
    ("confidence", "flag", "threshold", "expected"),
    [(0.9, None, 0.8, False), (0.7, None, 0.8, True), (0.99, LANGUAGE_NOT_READ, 0.5, True), (0.8, None, 0.8, False)],
)
def test_routing_sends_unsure_and_unread_items_to_the_llm(confidence, flag, threshold, expected):
    sentiment = Sentiment(Label.POSITIVE, 0.5, confidence, "en", flag)
    assert needs_llm(sentiment, threshold) is expected


@pytest.mark.parametrize(
    "text", ["Definitely a bargain.", "@anonymous happy Birthday brother.", "Stupid rain! Stupid treadmill hell!"]
)
def test_short_english_that_detectors_misread_is_still_read(analyzer, text):
    # Given short English texts that a language model alone may name Welsh, Serbian or Estonian
    sentiment = analyzer.analyze_one(text)
    # Then the lexicon reads them: English or undetermined, and no flag
    assert sentiment.language in ("en", "und")
    assert sentiment.flag is None


class CountingVader(LinearVader):
    def __init__(self) -> None:
        super().__init__()
        self.scored: list[str] = []

    def polarity_scores(self, text):
        self.scored.append(text)
        return super().polarity_scores(text)


def test_each_text_is_scored_once_window_by_window():
    # Given texts that look mixed, long ones, and an emoji flood
    texts = [
        "The camera is amazing and beautiful, but the battery is awful and the charger is horrible.",
        "Great food. Terrible service. " * 40,
        "😀😃😄😁" * 300,
    ]
    vader = CountingVader()
    analyzer = LexiconAnalyzer(vader=vader)
    # When each is analysed
    for text in texts:
        vader.scored.clear()
        analyzer.analyze_one(text)
        # Then VADER saw exactly the text's windows, each once: no clause is scored again
        assert vader.scored == _windows(text)
