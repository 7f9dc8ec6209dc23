"""Social text read as text: handles, links, entities, hashtags and repeated punctuation (issue 20, §0)."""

from __future__ import annotations

import pytest
from reviewpulse.analysis.lexicon_analyzer import LexiconAnalyzer
from reviewpulse.analysis.normalise import mask_social, normalise_social
from reviewpulse.results.themes import ThemeFinder, key_phrases, stop_words


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("@united lost my bag again", "lost my bag again"),
        ("RT @keelzy: .@panic charger broken @apple @stevejobs", "charger broken"),
        ("thanks @united for nothing", "thanks it for nothing"),
        ("see http://t.co/AbC123 now", "see now"),
        ("see https://example.com/a?b=c and www.example.org too", "see and too"),
        ("tea &amp; cake &lt;3", "tea & cake <3"),
        ("#fail as usual #NeverAgain", "fail as usual NeverAgain"),
        ("why!!!!!!! really?????", "why!!! really???"),
        ("write to help@example.com please", "write to help@example.com please"),  # an address is no handle
        ("Great phone. Would buy again.", "Great phone. Would buy again."),
    ],
)
def test_social_marks_are_read_as_text(text, read):
    # Given a text with (or without) social marks, When it is normalised, Then it reads as text
    assert normalise_social(text) == read


@pytest.mark.parametrize(
    "text", ["@united thanks!!!! http://t.co/x #fail &amp; more", "plain text.", "a&b #1 @x www.y.z/q"]
)
def test_the_mask_keeps_every_position_of_the_original(text):
    # Given any text, When it is masked for phrase finding, Then its length (so every offset) is kept
    masked = mask_social(text)
    assert len(masked) == len(text)
    # And what is not a mark is left where it was
    for original, kept in zip(text, masked, strict=True):
        assert kept in (original, " ")


def test_a_brands_handle_no_longer_scores_as_praise():
    # Given a complaint addressed to a handle that is also an English word
    analyzer = LexiconAnalyzer()
    text = "@united my flight is delayed again"
    # When the lexicon reads it, Then the handle adds nothing: it scores as the words alone do
    assert analyzer.analyze_one(text).score == analyzer.analyze_one("my flight is delayed again").score
    assert analyzer.analyze_one(text).score != pytest.approx(analyzer.scores(text)["compound"])


def test_themes_never_come_from_handles_links_or_entities_and_quote_the_original():
    # Given tweets whose only shared words are a handle, a t.co link, an entity and a reply's "DM"
    praise = [f"@acmehelp love the new app &amp; the widget http://t.co/x{n} #win" for n in range(4)]
    complaints = [f"@acmehelp DM us, the checkout crashed again http://t.co/y{n}" for n in range(4)]
    finder = ThemeFinder()
    for n, text in enumerate(praise):
        finder.add(f"p{n}", "positive", text)
    for n, text in enumerate(complaints):
        finder.add(f"n{n}", "negative", text)

    # When the themes are found
    themes = {t.phrase: t for t in finder.themes()}
    finder.close()

    # Then no theme is a handle, a piece of a link, an entity or a stop word
    words = {word for phrase in themes for word in phrase.split()}
    assert not words & {"acmehelp", "http", "co", "amp", "dm", "us", "x0", "y0"}
    assert not words & stop_words()
    # And the phrases people wrote are found, quoted verbatim from the original text
    assert {"app", "checkout"} <= words
    for theme in themes.values():
        assert any(theme.example in text for text in praise + complaints)


def test_a_hashtag_reads_as_its_word_in_phrases():
    # Given a text whose topic is a hashtag, When its phrases are found, Then the word is one
    assert "delays" in key_phrases("#delays again today", stop_words())
