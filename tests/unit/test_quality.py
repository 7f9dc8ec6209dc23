"""The quality and calibration tools, on labelled texts the test makes itself."""

from __future__ import annotations

import json

import pytest
from reviewpulse.analysis.calibration import MAX_CONFIDENCE, MIN_CONFIDENCE, Calibration
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse_tools.bench import calibrate, quality
from reviewpulse_tools.bench.labelled_data import LabelledSet, gold_of_rating, read_uci, read_vader
from reviewpulse_tools.doubles.fake_model import Oracle
from reviewpulse_tools.doubles.fake_openai import FakeOpenAI

PRAISE = ["I love this phone, it is wonderful", "Great battery and a superb screen", "Excellent, happy with it"]
COMPLAINT = ["Awful, it broke on day one", "Terrible support and a horrible refund", "I hate the noisy fan"]
PLAIN = ["The box holds a cable and a manual", "It ships in a brown box", "The phone is black"]


def labelled_set() -> LabelledSet:
    texts = [f"{text} ({n})" for n in range(20) for text in (*PRAISE, *COMPLAINT, *PLAIN)]
    gold = [label for _ in range(20) for label in ["positive"] * 3 + ["negative"] * 3 + ["neutral"] * 3]
    return LabelledSet("made/reviews", "product reviews", texts, gold)


def test_readers_give_a_three_class_view(tmp_path):
    # Given a UCI-style binary file (with a U+0085 inside a sentence) and a VADER-style rated file
    uci = tmp_path / "x_labelled.txt"
    uci.write_text("Good one\u0085 really\t1\nBad one\t0\nno label here\n", encoding="utf-8")
    rated = tmp_path / "x_GroundTruth.txt"
    rated.write_text("1\t2.5\tLovely\r\n2\t-0.2\tA table\r\n3\t-1.9\tDreadful\r\n", encoding="utf-8")
    # Then each sentence keeps its text, and ratings fall into the neutral band or out of it
    assert read_uci(uci) == (["Good one\u0085 really", "Bad one"], ["positive", "negative"])
    assert read_vader(rated) == (["Lovely", "A table", "Dreadful"], ["positive", "neutral", "negative"])
    assert gold_of_rating(0.0) == "neutral"


def test_expected_calibration_error_is_zero_when_confidence_matches_accuracy_and_grows_with_overconfidence():
    matched = [(0.75, True)] * 3 + [(0.75, False)]
    overconfident = [(0.95, True)] + [(0.95, False)] * 3
    assert calibrate.expected_calibration_error(matched) == pytest.approx(0.0)
    assert calibrate.expected_calibration_error(overconfident) == pytest.approx(0.95 - 0.25)


def test_accuracy_and_macro_f1_count_unanswered_items_as_wrong():
    gold = ["positive", "negative", "positive", "negative"]
    assert quality.accuracy(gold, gold) == quality.macro_f1(gold, gold) == 1.0
    assert quality.accuracy([None, "negative", "positive", "positive"], gold) == 0.5


def test_a_fitted_calibration_gives_probabilities_and_ships_as_json(tmp_path):
    # Given the lexicon's observations on made-up labelled texts
    labelled = labelled_set()
    rows = calibrate.observations(LexiconAnalyzer(), labelled.texts, labelled.gold)
    # When a calibration is fitted and read back
    fitted = calibrate.fit(rows)
    document = {"labels": {k: {"intercept": m.intercept, "weights": m.weights} for k, m in fitted.models.items()}}
    loaded = Calibration.from_json(json.loads(json.dumps(document)))
    # Then every confidence is a probability short of certainty, the same before and after
    confidences = calibrate.scored(loaded, rows)
    assert all(MIN_CONFIDENCE <= c <= MAX_CONFIDENCE for c, _ in confidences)
    assert confidences == calibrate.scored(fitted, rows)


def test_the_report_routes_through_the_real_auto_engine_to_the_oracle():
    # Given made-up labelled texts and an oracle that is always right
    labelled = labelled_set()
    analyzer = LexiconAnalyzer()
    lexicon = analyzer.analyze(labelled.texts)
    with FakeOpenAI(oracle=Oracle(dict(zip(labelled.texts, labelled.gold, strict=True)), accuracy=1.0)) as server:
        engine = quality.llm_engine(server.base_url, "test", "fake-sentiment-1")
        # When the report runs with a threshold that sends everything and one that sends nothing
        text = quality.set_report(labelled, lexicon, *quality.runs(engine, analyzer), [1.0, 0.0])
        requests = server.stats().requests
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in text.splitlines() if line.startswith("| ")}
    # Then llm-only and auto-below-1.0 are perfect and send everything; auto-below-0.0 sends none
    assert rows["llm"][1] == rows["auto < 1.00"][1] == "1.000"
    assert rows["auto < 1.00"][3] == "100.0%"
    assert rows["auto < 0.00"][3] == "0.0%"
    assert rows["auto < 0.00"][1] == rows["lexicon"][1]
    assert requests > 0
