"""Tenant models (analysis/models): the text they read, their features, training and its refusals,
the artifact, and the plain-Python scorer against scikit-learn on the same model."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest
from reviewpulse.analysis.models.artifact import MAX_BYTES, ArtifactInvalid, ModelArtifact
from reviewpulse.analysis.models.features import Featurizer, HashingSpec, tokens
from reviewpulse.analysis.models.routing import threshold_for
from reviewpulse.analysis.models.scorer import Scorer, ScorerCache
from reviewpulse.analysis.models.text import normalise
from reviewpulse.analysis.models.training import (
    MIN_ROWS_PER_CLASS,
    artifact_of,
    check_rows,
    feature_matrix,
    train,
)
from reviewpulse.errors import TRAINING_ERROR_CODES, TrainingDataRejected
from reviewpulse_tools.bench.labelled_corpus import corpus

# Small hashing spaces keep the tests' models small; the code paths are the same.
SPEC = HashingSpec(word_buckets=2**12, char_buckets=2**12)
GRID = (1.0, 4.0)


@pytest.fixture(scope="module")
def trained() -> tuple[ModelArtifact, list[str], list[str]]:
    texts, labels = corpus(150, seed=1)
    return train(texts, labels, seed=0, spec=SPEC, c_grid=GRID), texts, labels


# -- the text a model reads ----------------------------------------------------------------------


def test_social_text_is_normalised_before_a_model_reads_it():
    # Given a tweet with a handle, a link, an HTML entity, a hashtag and a run of exclamation marks
    text = "@United lost my bag &amp; no reply #fail!!!!!! https://t.co/AbC123 see www.example.com/x"

    # When it is normalised
    normalised = normalise(text)

    # Then the handle and links are placeholders, the entity and hashtag are plain, the run is cut
    assert normalised.split() == ["@user", "lost", "my", "bag", "&", "no", "reply", "fail!!!", "http", "see", "http"]
    assert "united" not in tokens(normalised)


def test_a_feature_row_has_word_char_and_lexicon_parts_scaled_per_block():
    # Given a featurizer
    featurizer = Featurizer(SPEC)

    # When a text becomes a row
    row = featurizer.row("Great great phone")

    # Then it has word features (3 unigrams + 2 bigrams, "great" twice), char n-grams and the
    # lexicon's three valence features (neg share, pos share, compound)
    words = {i: v for i, v in row.items() if i < SPEC.word_buckets}
    chars = {i: v for i, v in row.items() if SPEC.word_buckets <= i < SPEC.vader_offset}
    lexicon = {i - SPEC.vader_offset: v for i, v in row.items() if i >= SPEC.vader_offset}
    assert sum(v**2 for v in words.values()) == pytest.approx((2**2 + 1 + 1 + 1) / 5)
    assert chars
    assert set(lexicon) == {1, 2}  # no negative valence: its share is 0 and left out of the sparse row
    assert lexicon[2] > 0  # compound: VADER's lexicon reads "great" as praise


def test_a_negator_turns_the_valence_of_the_word_after_it():
    # Given the same praise word, plain and after a negator (a word of VADER's NEGATE list, or "n't")
    featurizer = Featurizer(SPEC)
    compound = SPEC.vader_offset + 2

    # Then the plain text's compound is positive and each negated one's is negative
    assert featurizer.row("the phone is good")[compound] > 0
    for text in ("the phone is not good", "the phone isn't good", "the phone aint good"):
        assert featurizer.row(text)[compound] < 0, text


def test_a_version_1_row_still_carries_vaders_four_scores():
    # Given the hashing spec of a model trained before version 2 (its artifacts still load)
    old = HashingSpec(word_buckets=2**12, char_buckets=2**12, version=1)

    # When a text becomes a row
    row = Featurizer(old).row("Great great phone")

    # Then its last block is VADER's neg, neu, pos, compound
    assert old.dimensions == SPEC.dimensions + 1
    assert row[old.vader_offset + 3] > 0 and row[old.vader_offset + 2] > 0


# -- training and what it refuses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "code"),
    [
        ([], "no-training-rows"),
        (["positive"] * 30, "one-class-only"),
        (["positive"] * 30 + ["negative"] * (MIN_ROWS_PER_CLASS - 1), "too-few-per-class"),
        (["positive"] * 30 + ["great"] * 30, "invalid-training-label"),
    ],
)
def test_bad_training_rows_are_refused_with_a_stable_code_before_any_fit(labels, code):
    # Given labelled rows a model cannot learn from
    texts = [f"text {n}" for n in range(len(labels))]

    # When they are checked (train checks them first)
    with pytest.raises(TrainingDataRejected) as refused:
        train(texts, labels)

    # Then the refusal names its catalogued code
    assert refused.value.code == code and code in TRAINING_ERROR_CODES


def test_the_minimum_per_class_is_enough():
    labels = ["positive"] * MIN_ROWS_PER_CLASS + ["negative"] * MIN_ROWS_PER_CLASS
    assert check_rows(["t"] * len(labels), labels) == {"positive": MIN_ROWS_PER_CLASS, "negative": MIN_ROWS_PER_CLASS}


def test_a_trained_model_learns_the_tenants_words_and_says_how_well(trained):
    # Given a model trained on a generated corpus whose classes are marked by words no lexicon knows
    artifact, texts, labels = trained
    held_out, gold = corpus(90, seed=2)

    # When it scores texts it has not seen
    predicted = [s.label.value for s in Scorer(artifact).analyze(held_out)]

    # Then it is right far more often than the largest class alone would be
    accuracy = sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold)
    assert accuracy > 0.8 > max(gold.count(label) for label in set(gold)) / len(gold)
    # And its card records its cross-validated figures and counts, and no text
    card = artifact.card
    assert card["rows"] == len(texts) and card["rows_per_class"] == {k: labels.count(k) for k in set(labels)}
    cv = card["cross_validation"]
    assert 0 <= cv["ece"] <= 1 and 0 < cv["accuracy"] <= 1 and 0 < cv["macro_f1"] <= 1
    assert sum(map(sum, cv["confusion"]["counts"])) == len(texts)
    assert sum(row["items"] for row in cv["reliability"]) == len(texts)
    assert card["regularisation"]["C"] in GRID and card["temperature"] > 0
    assert 0 < card["auto"]["threshold"] <= 1
    assert {"scikit-learn", "numpy", "vaderSentiment"} <= set(card["libraries"])


# -- the artifact --------------------------------------------------------------------------------


def test_an_artifact_round_trips_and_holds_no_customer_text(trained):
    # Given a trained artifact under an id
    artifact = trained[0].with_identity("support-tweets", "v1")

    # When it is written and read back
    data = artifact.to_bytes()
    back = ModelArtifact.from_bytes(data)

    # Then it is the same model, scoring the same, and small
    assert back == artifact and back.name == "support-tweets@v1"
    assert Scorer(back).probabilities("the app is zorbly") == Scorer(artifact).probabilities("the app is zorbly")
    assert len(data) <= MAX_BYTES
    # And none of the training texts' words is in it (hashed features only)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = b"".join(archive.read(name) for name in archive.namelist()).lower()
    assert not [word for word in ("zorbly", "grubbish", "kaput", "headset", "blender") if word.encode() in content]
    assert json.loads(zipfile.ZipFile(io.BytesIO(data)).read("model.json"))["card"]["rows"] == 150


def test_bytes_that_are_not_an_artifact_are_refused():
    for junk in (b"", b"not a zip", _zip({"model.json": b"{}", "weights.f32": b""})):
        with pytest.raises(ArtifactInvalid):
            ModelArtifact.from_bytes(junk)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


# -- the scorer against scikit-learn -------------------------------------------------------------


@pytest.mark.parametrize("labels", [("positive", "negative", "neutral"), ("positive", "negative")])
def test_the_scorer_gives_scikit_learns_probabilities_for_the_same_model(labels):
    # Given a scikit-learn logistic regression fitted on the features of a generated corpus
    from sklearn.linear_model import LogisticRegression

    texts, gold = corpus(90, seed=3, labels=labels)
    classes = tuple(sorted(set(gold)))
    estimator = LogisticRegression(C=2.0, max_iter=2000).fit(feature_matrix(texts, SPEC), gold)
    assert tuple(estimator.classes_) == classes

    # When the same model is scored by the plain-Python scorer, from its artifact
    scorer = Scorer(ModelArtifact.from_bytes(artifact_of(estimator, classes, SPEC).to_bytes()))
    others, _ = corpus(40, seed=4, labels=labels)

    # Then its probabilities are scikit-learn's (float32 weights: to about 1e-5)
    expected = estimator.predict_proba(feature_matrix(others, SPEC))
    for text, row in zip(others, expected, strict=True):
        assert scorer.probabilities(text) == pytest.approx(list(row), abs=1e-4)


def test_scorers_are_cached_by_tenant_model_and_version(trained):
    cache = ScorerCache(size=2)
    built = []

    def build():
        built.append(1)
        return Scorer(trained[0])

    first = cache.get(("acme", "m", "v1"), build)
    assert cache.get(("acme", "m", "v1"), build) is first and len(built) == 1
    assert cache.get(("acme", "m", "v2"), build) is not first and len(built) == 2
    cache.get(("other", "m", "v1"), build)  # a third: the least recently used (v1 of acme) goes
    assert ("acme", "m", "v1") not in cache and len(built) == 3


def test_the_auto_threshold_is_the_lowest_confidence_whose_kept_items_reach_the_target():
    # Given out-of-fold (confidence, right) pairs: the top 20 all right, then 10 half right, then wrong
    pairs = [(0.95, True)] * 20 + [(0.7, n % 2 == 0) for n in range(10)] + [(0.5, False)] * 10

    # Then 0.95 keeps 100 %, 0.7 keeps 25/30 = 83 %, 0.5 keeps 25/40
    assert threshold_for(pairs, 0.9) == 0.95
    assert threshold_for(pairs, 0.8) == 0.7
    assert threshold_for(pairs, 0.6) == 0.5
    assert threshold_for([(0.9, False)] * 20, 0.9) == 1.0  # never reached: everything to the LLM


# -- what the analyzer imports -------------------------------------------------------------------


def test_scoring_imports_neither_scikit_learn_nor_numpy():
    # Given a fresh interpreter that loads the engines, the scorer, the artifact and model files
    code = (
        "import sys\n"
        "import reviewpulse.analysis.engines.registry, reviewpulse.analysis.models.scorer\n"
        "import reviewpulse.analysis.models.artifact, reviewpulse.storage.model_files\n"
        "print(sorted(m for m in ('sklearn', 'numpy', 'scipy') if m in sys.modules))\n"
    )
    # When it has imported them
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    # Then no training library came with them
    assert loaded.strip() == "[]"


# -- the figures' data --------------------------------------------------------------------------


def test_the_apple_tweets_are_read_as_three_classes_without_the_irrelevant_rows(tmp_path):
    from reviewpulse_tools.bench.learning import APPLE, load_apple, report

    # Given the CrowdFlower file's shape: Latin-1 bytes, labels 1/3/5 and not_relevant
    path = tmp_path / APPLE
    path.parent.mkdir(parents=True)
    rows = '_unit_id,sentiment,text\r\n1,5,caf\xe9 @apple love it\r\n2,not_relevant,spam\r\n3,1,"broke,\nagain"\r\n'
    path.write_bytes(rows.encode("latin-1"))

    # When it is read
    labelled = load_apple(tmp_path)

    # Then the labelled rows come back as texts and labels, in order
    assert labelled.texts == ["caf\xe9 @apple love it", "broke,\nagain"]
    assert labelled.gold == ["positive", "negative"]
    # And without any data the figures say they were skipped
    assert "skipped" in report(tmp_path / "nothing")


def test_the_learning_figures_score_rows_no_model_was_trained_on():
    from reviewpulse_tools.bench.labelled_data import LabelledSet
    from reviewpulse_tools.bench.learning import MIN_REST, split

    # Given a set sorted by its label (as the movie snippets are sorted by rating)
    texts = [f"text {n}" for n in range(1200)]
    labelled = LabelledSet("sorted", "test", texts, ["negative"] * 600 + ["positive"] * 600)

    # When it is split into a training pool and held-out rows
    pool, held_out = split(labelled)

    # Then no row is in both, none is lost, at least MIN_REST are held out
    assert not set(pool.texts) & set(held_out.texts)
    assert sorted(pool.texts + held_out.texts) == sorted(texts)
    assert len(held_out.texts) >= MIN_REST
    # And the pool is shuffled (both labels in its first rows), the same way every time
    assert set(pool.gold[:100]) == {"negative", "positive"}
    assert split(labelled) == (pool, held_out)
    # And each text keeps its own label
    assert all(labelled.gold[texts.index(t)] == g for t, g in zip(held_out.texts, held_out.gold, strict=True))


def test_the_tuning_protocol_trains_and_scores_pool_rows_only(monkeypatch):
    import reviewpulse_tools.bench.learning as learning
    from reviewpulse_tools.bench.labelled_data import LabelledSet

    # Given a labelled set of distinct texts whose split leaves a pool of a few hundred rows
    texts, labels = corpus(760, seed=3)
    unique = dict(zip(texts, labels, strict=True))
    labelled = LabelledSet("generated", "test", list(unique), list(unique.values()))
    pool, held_out = learning.split(labelled)
    trained, scored_texts = [], []

    def small_train(rows, gold, **_):
        trained.append(list(rows))
        return train(rows, gold, seed=0, spec=SPEC, c_grid=GRID)

    class RecordingScorer(Scorer):
        def analyze(self, rows):
            scored_texts.append(list(rows))
            return super().analyze(rows)

    monkeypatch.setattr(learning, "train", small_train)
    monkeypatch.setattr(learning, "Scorer", RecordingScorer)

    # When the tuning protocol draws twice
    lines, found = learning.pool_draws(labelled, draws=2, size=100)

    # Then each draw trains on its labels and scores the pool's other rows, and no held-out row is read
    assert [len(rows) for rows in trained] == [100, 100] and trained[0] != trained[1]
    for rows, others in zip(trained, scored_texts, strict=True):
        assert not set(rows) & set(others)
        assert sorted(rows + others) == sorted(pool.texts)
    assert not {t for rows in trained + scored_texts for t in rows} & set(held_out.texts)
    # And the table's figure is the mean of the draws' own accuracies
    accuracies = [draw[0] for draw in found["draws"]]
    assert f"{sum(accuracies) / 2:.3f} ± " in lines[-1]


def test_the_routing_curve_sends_flagged_items_then_the_least_confident_and_finds_the_fewest_sent():
    from reviewpulse_tools.bench.learning_routing import Draw, agreeing_threshold

    # Given ten held-out items, all positive: the LLM right on all but the last; the model's
    # confidence rising 0.1 … 1.0 with the item, wrong on the five least confident, right on the rest
    gold = ["positive"] * 10
    llm = ["positive"] * 9 + ["negative"]
    model = [("negative" if i < 5 else "positive", round(0.1 * (i + 1), 1), False) for i in range(10)]
    found = Draw(model, llm, gold, own=0.9, agreeing=0.7)

    # Then sending none keeps the model's 5 right of llm-only's 9; sending the 4 least confident makes
    # 4 + 5 = 9 right (100 %), 3 make 8 (89 %): 95 % is first reached at 40 % sent, the first kept item's 0.5
    assert found.relative_when_sending(0) == pytest.approx(5 / 9)
    assert found.relative_when_sending(3) == pytest.approx(8 / 9)
    assert found.smallest_share() == (0.4, 0.5)
    # And a threshold sends the items below it: 0.45 sends four (0.1 … 0.4)
    assert found.at_threshold(0.45) == (pytest.approx(0.4), pytest.approx(1.0))

    # Given the same items with a confident one flagged (a language the model does not read)
    flagged = [(label, confidence, i == 7) for i, (label, confidence, _) in enumerate(model)]
    found = Draw(flagged, llm, gold, own=0.9, agreeing=0.7)

    # Then it is always sent: no threshold keeps it, and it counts among the items sent first
    assert found.at_threshold(0.0)[0] == pytest.approx(0.1)
    # sending 5 = item 7 and the four least confident: 5 + 4 right of 9 → 100 %; 4 → 8 of 9
    assert found.smallest_share() == (0.5, 0.5)

    # Given a card's routing table (kept share and its out-of-fold agreement per threshold)
    card = {
        "routing": [
            {"threshold": 0.5, "kept": 1.0, "accuracy": 0.8},
            {"threshold": 0.6, "kept": 0.8, "accuracy": 0.9},
            {"threshold": 0.7, "kept": 0.5, "accuracy": 0.96},
        ]
    }
    # Then 95 % agreement (kept × accuracy + sent) is first reached at 0.7: 0.8, 0.92, 0.98
    assert agreeing_threshold(card, 0.95) == 0.7
    assert agreeing_threshold(card, 0.99) == 1.0


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_features_version_still_loads_and_scores_and_an_unknown_version_is_refused(version):
    # Given a model trained with older features (1: VADER's four scores; 2: a one-token negation), as bytes
    texts, labels = corpus(90, seed=6)
    old = train(
        texts, labels, seed=0, spec=HashingSpec(word_buckets=2**12, char_buckets=2**12, version=version), c_grid=GRID
    )
    data = old.to_bytes()

    # When it is read back
    back = ModelArtifact.from_bytes(data)

    # Then it keeps its features version and scores as the model it was
    assert back.spec.version == version and back.card["features_version"] == version
    assert Scorer(back).probabilities("not very good") == pytest.approx(Scorer(old).probabilities("not very good"))
    # And bytes naming a features version this code does not know are refused
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        header = json.loads(archive.read("model.json"))
        weights = archive.read("weights.f32")
    header["hashing"]["version"] = 99
    with pytest.raises(ArtifactInvalid):
        ModelArtifact.from_bytes(_zip({"model.json": json.dumps(header).encode(), "weights.f32": weights}))
