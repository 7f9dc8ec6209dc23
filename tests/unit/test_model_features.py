"""What a tenant model reads of a text, and the scorer's shortcuts: the plain-Python scorer caches
what words and token pairs contribute, skips the lexicon's window split for a text that is surely
one window and skips each normalisation step whose mark is absent; each shortcut must give what
the training features (Featurizer, the lexicon's windowing, every normalisation step) give."""

from __future__ import annotations

import random

import pytest
from reviewpulse.analysis.lexicon_analyzer import WINDOW_TOKENS, windowed_scores
from reviewpulse.analysis.models.features import (
    VADER_FEATURES,
    Featurizer,
    HashingSpec,
    char_indices,
    tokens,
    vader_values,
)
from reviewpulse.analysis.models.scorer import Scorer
from reviewpulse.analysis.models.text import HANDLE, LINK, normalise
from reviewpulse.analysis.models.training import train
from reviewpulse.analysis.vader_linear import LinearVader
from reviewpulse_tools.bench.labelled_corpus import corpus

SPEC = HashingSpec(word_buckets=2**12, char_buckets=2**12)
# Version 1 (VADER's four scores) is how models were trained before 2026-12-06: still scored.
SPECS = {version: HashingSpec(word_buckets=2**12, char_buckets=2**12, version=version) for version in (1, 2, 3)}

# Texts that reach every path: repeated words and bigrams, a handle, a link, an entity, a hashtag,
# apostrophes, emoji, one token, punctuation only, nothing, and texts either side of one window.
TEXTS = [
    "Great great great phone, great phone!",
    "@united lost my bag &amp; didn't reply #fail!!!!!! https://t.co/AbC123",
    "WWW.EXAMPLE.COM/deal is a scam ?????",
    "&#64;acmehelp thanks for nothing....",
    "ok",
    "!!!",
    "",
    "it's not bad 😀 but it isn't good either",
    " ".join(["don't"] * (WINDOW_TOKENS // 3) + ["good"]),
    " ".join(["@x"] * (WINDOW_TOKENS // 2) + ["awful"]),
    " ".join(["word"] * (WINDOW_TOKENS - 1) + ["great!"]),
    " ".join(["the", "service", "was", "not", "great"] * 30),
    "not good, never bad, isn't terrible and ain't great",
    "NOT not bad",
    # negators two and three tokens before a word (features version 3's window), upper-case "N'T"
    "not very good",
    "I DON'T really like it, never was that great",
    "no, it is not the worst, isn't it",
]


@pytest.fixture(scope="module", params=sorted(SPECS), ids=lambda version: f"features-v{version}")
def artifact(request):
    texts, labels = corpus(120, seed=5)
    return train(texts, labels, seed=0, spec=SPECS[request.param], c_grid=(1.0,))


def featurized_logits(artifact, text: str) -> list[float]:
    row = Featurizer(artifact.spec).row(text)
    return [
        intercept + sum(weights[index] * value for index, value in row.items())
        for intercept, weights in zip(artifact.intercept, artifact.weights, strict=True)
    ]


def test_the_scorer_gives_the_training_features_logits_on_every_kind_of_text(artifact):
    # Given a trained model and texts that reach every path of the scorer
    scorer = Scorer(artifact)

    # When each is scored twice (caches cold, then warm)
    for text in TEXTS + TEXTS:
        # Then its logits are the dot product of the training row with the weights
        assert scorer.logits(text) == pytest.approx(featurized_logits(artifact, text), abs=1e-5), text


def test_caches_that_fill_up_and_empty_give_the_same_scores(artifact):
    # Given one scorer whose caches hold only a few words and pairs, and one with room for all
    tiny = Scorer(artifact, word_cache=3, pair_cache=5)
    roomy = Scorer(artifact)
    texts = corpus(60, seed=8)[0]

    # When both score the same texts (the tiny one emptying its caches over and over)
    # Then every probability is the same
    for text in texts:
        assert tiny.probabilities(text) == pytest.approx(roomy.probabilities(text), abs=1e-9)


def test_the_vader_scores_skip_the_window_split_only_where_it_changes_nothing():
    # Given texts of random tokens around one window's length: words, apostrophes, handles, marks
    vader = LinearVader()
    rng = random.Random(7)
    pieces = ["good", "bad", "don't", "it's", "@user", "!", "?", ",", "not", "very", "😀", "ok", "isn't"]
    texts = [" ".join(rng.choice(pieces) for _ in range(rng.randint(WINDOW_TOKENS - 15, WINDOW_TOKENS + 5)))
             for _ in range(200)]  # fmt: skip

    # When their four scores are taken with their tokens given, and as the lexicon windows them
    for text in texts:
        normalised = normalise(text)
        quick = vader_values(vader, normalised, tokens(normalised))
        windowed = windowed_scores(vader, normalised)

        # Then they are the same scores
        assert quick == tuple(float(windowed[name]) for name in VADER_FEATURES), text


@pytest.mark.parametrize(
    ("text", "expected_tokens"),
    [
        ("Deals at WWW.Example.com/x now", ["deals", "at", LINK, "now"]),
        ("&#64;united why", [HANDLE, "why"]),
        ("wait&#33;&#33;&#33;&#33;&#33;", ["wait", "!", "!", "!"]),
        ("#fail &amp; #win", ["fail", "&", "win"]),
    ],
)
def test_each_normalisation_step_applies_wherever_its_mark_appears(text, expected_tokens):
    # Given a mark in capitals, or spelt by an HTML entity
    # When the text is normalised and tokenised
    # Then the mark is read as the step says: a link, a handle, a cut run, a plain hashtag
    assert tokens(normalise(text)) == expected_tokens


def test_a_text_without_marks_is_read_unchanged():
    text = "The battery lasts two days, which is fine."
    assert normalise(text) == text


@pytest.mark.parametrize("word", ["a", "ok", "aaaa", "héllo", "don't"])
def test_a_word_has_one_char_feature_per_padded_n_gram_repeats_kept(word):
    # Given a word and the spec's n-gram lengths
    padded = len((" " + word + " ").encode())
    expected = sum(max(0, padded - n + 1) for n in range(SPEC.char_min, SPEC.char_max + 1))

    # When its character features are listed
    indices = char_indices(SPEC, word)

    # Then there is one per n-gram of the padded word, each inside the character block
    assert len(indices) == expected
    assert all(SPEC.word_buckets <= index < SPEC.vader_offset for index in indices)
    if word == "aaaa":  # the same n-gram twice counts twice
        assert len(set(indices)) < len(indices)


def test_version_3_negates_a_word_up_to_three_tokens_after_a_negator_and_version_2_only_right_after():
    from reviewpulse.analysis.models.features import NEGATED, NEGATION_WINDOW, tokens, valence_sums

    lexicon = {"good": 1.9, "bad": -2.5}
    # Given a negator one, two, three and four tokens before a positive word
    for gap, text in enumerate(("not good", "not very good", "not so very good", "not at all very good"), start=1):
        found = tokens(text)
        # When the valences are summed with each version's window
        v2 = valence_sums(lexicon, found, NEGATION_WINDOW[2])
        v3 = valence_sums(lexicon, found, NEGATION_WINDOW[3])
        # Then version 2 negates it only right after the negator, version 3 within three tokens
        assert v2 == ((0.0, -1.9 * NEGATED) if gap == 1 else (1.9, 0.0)), text
        assert v3 == ((0.0, -1.9 * NEGATED) if gap <= 3 else (1.9, 0.0)), text
