"""Themes without an LLM: key phrases that lean positive or negative, counted exactly."""

from __future__ import annotations

import math

import pytest
from reviewpulse.results.themes import ThemeFinder, key_phrases, log_odds_z, stop_words

PRAISE = [
    "The battery life is amazing, two full days.",
    "Great battery life and a bright screen.",
    "Battery life lasts forever. Love it.",
    "I love the battery life on this one.",
]
COMPLAINTS = [
    "Customer service never answered my emails.",
    "Terrible customer service, I waited a week.",
    "Customer service was rude and useless.",
]
NEUTRAL_TOPIC = ["The screen is bright.", "Screen was cracked on arrival, awful."]


def feed(finder: ThemeFinder) -> None:
    number = 0
    for label, texts in (("positive", PRAISE), ("negative", COMPLAINTS)):
        for text in texts:
            number += 1
            finder.add(f"r{number}", label, text, ["north" if number % 2 else "south"])
    finder.add("r8", "positive", NEUTRAL_TOPIC[0], ["north"])
    finder.add("r9", "negative", NEUTRAL_TOPIC[1], ["south"])
    finder.add("r10", "neutral", "Battery life is fine.", ["north"])  # neither side: not counted
    finder.add("r11", "negative", None, ["north"])  # no text (an error row): skipped


def test_phrases_are_bounded_by_stop_words_and_sentiment_words():
    phrases = key_phrases("Great battery life, but the customer service is terrible!", stop_words() | {"great"})
    assert {"battery life", "battery", "life", "customer service", "customer", "service"} <= set(phrases)
    assert not any(word in phrase.split() for phrase in phrases for word in ("great", "the", "but", "is"))
    # And each phrase keeps the verbatim sentence it came from
    assert phrases["customer service"] == "Great battery life, but the customer service is terrible!"


def test_the_stop_word_list_ships_in_the_package():
    assert {"the", "and", "product"} <= stop_words()


def test_log_odds_z_is_zero_for_equal_rates_and_signed_by_the_leaning_side():
    assert log_odds_z(5, 5, 100, 100, 0.05, 200) == pytest.approx(0.0)
    assert log_odds_z(9, 1, 100, 100, 0.05, 200) > 0 > log_odds_z(1, 9, 100, 100, 0.05, 200)
    # By hand: alpha = 10 × 0.1 = 1; δ = ln(4/(20+10−3−1)) − ln(1/(20+10−0−1)), var = 1/4 + 1/1
    expected = (math.log(4 / 26) - math.log(1 / 29)) / math.sqrt(1 / 4 + 1)
    assert log_odds_z(3, 0, 20, 20, 0.1, 10) == pytest.approx(expected)


def test_praise_and_complaint_themes_with_exact_counts_ids_and_a_verbatim_quote():
    # Given four positive items about battery life and three negative ones about customer service
    finder = ThemeFinder()
    feed(finder)

    # When the themes are found
    themes = {t.phrase: t for t in finder.themes()}

    # Then battery life is praise and customer service a complaint, each as one phrase
    assert themes["battery life"].polarity == "praise"
    assert themes["customer service"].polarity == "complaint"
    assert not {"battery", "life", "customer", "service"} & set(themes)
    praise = themes["battery life"]
    assert (praise.count, praise.positive, praise.negative) == (4, 4, 0)
    assert praise.example_ids == ["r1", "r2", "r3"]
    assert praise.example in PRAISE[0]
    assert themes["customer service"].example_ids == ["r5", "r6", "r7"]
    # And a topic both sides mention once is no theme
    assert "screen" not in themes
    finder.close()


def test_pruning_keeps_memory_bounded_and_the_chosen_themes_counts_exact():
    # Given a table of at most 30 phrases: one complaint about customer service, then a flood of
    # one-off phrases that prunes it from the table, then three more complaints about it
    finder = ThemeFinder(max_candidates=30)
    finder.add("early", "negative", "Customer service.", ["north"])
    for number in range(20):
        finder.add(f"x{number}", "positive", f"zq{number}a zq{number}b zq{number}c", ["north"])
    for number in range(3):
        finder.add(f"late{number}", "negative", "Customer service.", ["north"])

    # When the themes are found
    themes = {t.phrase: t for t in finder.themes()}

    # Then it is chosen from the three the table still counted, and counted exactly: four items
    assert themes["customer service"].count == 4
    assert themes["customer service"].example_ids == ["early", "late0", "late1"]
    finder.close()


def test_segments_get_the_batch_themes_their_items_mention():
    finder = ThemeFinder()
    feed(finder)
    _, (per_value,) = finder.finish([{"north", "south"}])
    north = {t.phrase: t.count for t in per_value["north"]}
    south = {t.phrase: t.count for t in per_value["south"]}
    # r1, r3 (battery) r5, r7 (service) are north; r2, r4 and r6 south
    assert north["battery life"] == 2 and north["customer service"] == 2
    assert south["battery life"] == 2 and south["customer service"] == 1
    finder.close()


def test_a_batch_whose_only_phrase_is_on_both_sides_has_no_theme_and_no_error():
    # Given one positive and one negative item that both mention only "battery" (found by the
    # local stack's LLM test: the log-odds denominators were zero)
    finder = ThemeFinder()
    finder.add("r1", "positive", "The battery is great.", [])
    finder.add("r2", "negative", "The battery is awful.", [])
    # Then no theme is found, and nothing fails
    assert finder.themes() == []
    assert log_odds_z(1, 1, 1, 1, 1.0, 2) == 0.0
    finder.close()
