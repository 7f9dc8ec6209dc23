"""The texts behind the report's ids (results/example_texts.py): each category's first items by row,
themes' examples read back from the spool, capped at a word, personal data replaced unless the task
said redact_pii false."""

from __future__ import annotations

from reviewpulse.results.example_texts import CATEGORY_LISTED, MAX_TEXT_CHARS, ExampleTexts


def test_a_category_lists_its_first_items_and_a_theme_example_is_found_in_the_spool():
    # Given more late items than a category lists, and a praised item in no category
    texts = ExampleTexts(["late"], themes=True, redact_pii=True)
    for number in range(CATEGORY_LISTED + 5):
        texts.add(f"r{number}", "negative", f"late again, write to me{number}@example.com", ["late"])
    texts.add("p1", "positive", "Lovely strap", [])
    texts.add("n1", "neutral", "It is a strap", [])

    # When the theme examples p1 and n1 are asked for
    found = texts.finish({"p1", "n1"})
    texts.close()

    # Then the category lists its first items by row, each with its text, the e-mail replaced
    assert found.categories["late"] == [f"r{n}" for n in range(CATEGORY_LISTED)]
    assert found.texts["r0"].text == "late again, write to [EMAIL_1]" and found.texts["r0"].label == "negative"
    assert f"r{CATEGORY_LISTED}" not in found.texts
    # And the praised item comes from the spool; a neutral one is never a theme's example
    assert found.texts["p1"].text == "Lovely strap" and "n1" not in found.texts


def test_without_redaction_the_text_is_as_written_and_a_long_one_is_cut_at_a_word():
    texts = ExampleTexts(["late"], themes=False, redact_pii=False)
    long = "late " + "word " * MAX_TEXT_CHARS
    texts.add("a", "negative", "late, mail me@example.com", ["late"])
    texts.add("b", "negative", long, ["late"])
    found = texts.finish(set()).texts
    assert found["a"].text == "late, mail me@example.com" and not found["a"].cut
    assert found["b"].cut and found["b"].text.endswith("word …") and len(found["b"].text) <= MAX_TEXT_CHARS + 2
