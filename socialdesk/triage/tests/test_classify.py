"""The trained tiers: features, training, the shipped artifact, the cascade."""

import csv
import hashlib

import numpy as np
import pytest

from socialdesk.triage import classify
from socialdesk.triage.classify import features
from socialdesk.triage.classify.cascade import Cascade
from socialdesk.triage.classify.datasets import YOUTUBE_FILES
from socialdesk.triage.classify.fast import ArtifactError, FastClassifier
from socialdesk.triage.classify.train import balance_offsets, feedback_pairs, train_fast


def test_negation_marks_the_words_in_its_scope_until_punctuation():
    tokens = features.tokens("I am not happy with it. Great service though")
    assert "neg_happy" in tokens and "neg_it" in tokens
    assert "great" in tokens and "neg_great" not in tokens


def test_links_and_handles_are_normalised_and_stretched_letters_squeezed():
    tokens = features.tokens("@BrandHelp @bob sooooo slow, ask @carol http://x.example/abc")
    # Handles say whom a post addresses, not what it says: they are dropped.
    assert tokens == ["soo", "slow", ",", "ask", "url"]


def test_posts_with_and_without_negation_are_tokenised_alike():
    # The one-pass path (nothing negated) and the scope-tracking one agree.
    assert features.tokens("Don’t stop, #great app!!") == [
        "don't", "neg_stop", ",", "#great", "app", "!!", "lex+1", "lex+3"]
    assert features.tokens("Love the #great app!! :)") == [
        "love", "the", "#great", "app", "!!", ":", ")", "lex+3", "lex+3"]


def test_the_sentiment_offsets_balance_recall_on_validation_data():
    # Class 1 loses every close call: an offset on its logit wins them back,
    # and of the offsets that do, the smallest is chosen.
    z = np.array([[1.0, 0.8, 0.0], [1.0, 0.9, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    offsets = balance_offsets(z, ["a", "b", "a", "c"], ("a", "b", "c"))
    assert list(offsets) == pytest.approx([0, 0.15, 0])
    assert ((z + offsets).argmax(axis=1) == [0, 1, 0, 2]).all()


def test_lexicon_tokens_rate_words_and_flip_under_negation():
    assert "lex+2" in features.tokens("this is great") or "lex+3" in features.tokens("great")
    plain, negated = features.tokens("good"), features.tokens("not good")
    assert [t for t in plain if t.startswith("lex")] == ["lex+2"]
    assert [t for t in negated if t.startswith("lex")] == ["lex-2"]


# A tiny copy of every training set, enough for each head to see every class.

SENT = [("I love this, great day", 2), ("awful, I hate it", 0), ("the bus leaves at noon", 1)]


def _write_tweeteval(folder, names, pairs):
    folder.mkdir(parents=True)
    (folder / "mapping.txt").write_text("\n".join(f"{i}\t{n}" for i, n in enumerate(names)))
    for split in ("train", "val", "test"):
        (folder / f"{split}_text.txt").write_text("".join(t + " \n" for t, _ in pairs))
        (folder / f"{split}_labels.txt").write_text("".join(f"{label}\n" for _, label in pairs))


@pytest.fixture
def tiny_data(tmp_path):
    data = tmp_path / "data"
    te = data / "tweeteval"
    _write_tweeteval(te / "sentiment", ["negative", "neutral", "positive"], SENT * 4)
    _write_tweeteval(te / "offensive", ["not-offensive", "offensive"],
                     [("have a nice day", 0), ("shut up you moron", 1)] * 6)
    _write_tweeteval(te / "irony", ["non_irony", "irony"],
                     [("the train is late", 0), ("oh great, another monday, just what i needed",
                                                  1)] * 6)
    complaints = data / "complaints-social-media"
    complaints.mkdir()
    with (complaints / "complaints-data.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        for i in range(10):
            writer.writerow([i, "@brand my order never arrived, still waiting", 1, "retail"])
            writer.writerow([100 + i, "lovely walk in the park today", 0, "random_tweet"])
    youtube = data / "youtube-spam-collection"
    youtube.mkdir()
    for n, name in enumerate(YOUTUBE_FILES):
        with (youtube / name).open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"])
            for i in range(2):
                writer.writerow([f"s{n}{i}", "a", "", "check out my channel and subscribe", 1])
                writer.writerow([f"h{n}{i}", "b", "", "this song is beautiful", 0])
    twcs = data / "twcs-customer-support-on-twitter"
    twcs.mkdir()
    with (twcs / "twcs_first5000.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["tweet_id", "author_id", "inbound", "created_at", "text",
                         "response_tweet_id", "in_response_to_tweet_id"])
        writer.writerow([1, "115712", "True", "", "@sprintcare my phone has no signal", "", ""])
        writer.writerow([2, "sprintcare", "False", "", "@115712 sorry to hear that", "", 1])
    return data


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_training_is_reproducible_and_the_artifact_scores_posts(tiny_data, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    meta = train_fast(tiny_data, first, log=lambda line: None)
    train_fast(tiny_data, second, log=lambda line: None)
    assert _digest(first / "fast-v1.npz") == _digest(second / "fast-v1.npz")
    assert [h["name"] for h in meta["heads"]] == list(classify.HEADS)

    model = FastClassifier.from_artifacts(first)
    scores = model.scores(["awful, I hate it", "check out my channel and subscribe"])
    assert scores["sentiment"].shape == (2, 3)
    assert np.allclose(scores["sentiment"].sum(axis=1), 1)
    assert scores["sentiment"][0].argmax() == 0  # negative
    assert scores["spam"][1] > 0.5 > scores["spam"][0]
    assert all(0 <= p <= 1 for head in ("complaint", "offensive", "spam", "irony")
               for p in scores[head])


def test_feedback_is_folded_into_training(tiny_data, tmp_path):
    meta = train_fast(tiny_data, tmp_path, feedback={"complaint": [("kettle leaks", True)]},
                      log=lambda line: None)
    complaint = next(h for h in meta["heads"] if h["name"] == "complaint")
    assert complaint["feedback_examples"] == 1 and complaint["examples"] == 21
    spam = next(h for h in meta["heads"] if h["name"] == "spam")
    assert spam["examples"] == 20 + 20 + 1  # comments, customer posts as not spam, twcs inbound


def test_a_missing_artifact_says_how_to_make_one(tmp_path):
    with pytest.raises(ArtifactError, match="socialdesk train"):
        FastClassifier.from_artifacts(tmp_path)


def test_corrections_become_labels_for_the_heads_they_concern():
    pairs = feedback_pairs([
        ("thanks, sorted!", "category", "praise", "complaint"),
        ("where is my parcel", "category", "complaint", "question"),
        ("win a free phone", "category", "spam", "other"),
        ("you are clowns", "category", "complaint", "abuse"),
        ("meh", "sentiment", "neutral", "negative"),
    ])
    assert pairs["complaint"] == [("thanks, sorted!", False), ("where is my parcel", True),
                                  ("you are clowns", True)]
    assert pairs["spam"] == [("win a free phone", True)]
    assert pairs["offensive"] == [("you are clowns", "not-offensive")]
    assert pairs["sentiment"] == [("meh", "neutral")]


def test_the_shipped_fast_model_judges_plain_cases():
    model = classify.load("fast")
    scores = model.scores(["I love my new kettle, thank you!",
                           "My order never arrived and nobody answers, worst service ever",
                           "Subscribe to my channel for free gift cards http://x.example"])
    assert list(scores["sentiment"].argmax(axis=1)[:2]) == [2, 0]
    assert scores["complaint"][1] > 0.5 > scores["complaint"][0]
    assert scores["spam"][2] > 0.9


class _Constant:
    tier, version = "accurate", "test"

    def __init__(self):
        self.asked = []

    def scores(self, texts):
        self.asked += texts
        n = len(texts)
        return {"sentiment": np.tile([0.0, 0.0, 1.0], (n, 1)), "complaint": np.zeros(n),
                "offensive": np.zeros(n), "spam": np.zeros(n), "irony": np.zeros(n)}


def test_the_cascade_asks_the_accurate_tier_only_where_the_fast_one_is_unsure():
    accurate = _Constant()
    cascade = Cascade(classify.load("fast"), accurate)
    texts = ["I love my new kettle, thank you so much, brilliant!", "hmm ok maybe idk"]
    fast = classify.load("fast").scores(texts)
    scores = cascade.scores(texts)
    expected = cascade.unsure(fast)
    assert list(scores["asked"]) == list(expected)
    assert accurate.asked == [t for t, a in zip(texts, expected, strict=True) if a]
    for i, asked in enumerate(expected):
        want = [0.0, 0.0, 1.0] if asked else fast["sentiment"][i]
        assert np.allclose(scores["sentiment"][i], want)


def test_an_unknown_tier_is_refused():
    with pytest.raises(ValueError, match="unknown triage tier"):
        classify.load("turbo")


@pytest.mark.parametrize("text, lang", [
    ("Where is my order? It was due on Monday and I have had no reply", "en"),
    ("WHY IS THE APP DOWN AGAIN, THIS IS THE THIRD TIME THIS WEEK", "en"),
    ("Mi pedido no ha llegado y nadie me responde", "es"),
    ("Ma commande n'est toujours pas arrivée, c'est inadmissible", "fr"),
    ("Meine Bestellung ist immer noch nicht angekommen", "de"),
    ("ok", ""),
])
def test_language(text, lang):
    from socialdesk.triage.language import detect_language

    assert detect_language(text) == lang


def test_the_batch_language_walk_gives_the_model_s_own_answers():
    import py3langid.langid as langid

    from socialdesk.triage import language

    texts = ["Mi pedido no ha llegado y nadie me responde", "Où est ma commande ?",
             "Где мой заказ?", "注文した商品が届きません", "waar blijft mijn pakket",
             "kettle", "MY KETTLE IS BROKEN", "zzz", "Dov'è il mio ordine?"]
    model = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    model.set_languages(language.LANGUAGES)
    assert language._identify(texts) == [model.classify(t)[0] for t in texts]
