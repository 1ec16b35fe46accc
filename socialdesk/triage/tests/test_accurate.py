"""The accurate tier: training its heads, loading them, scoring posts.

Most tests stand a tiny fake encoder in for the sentence-embedding model and
train on a tiny data set written in the public sets' formats, so they need
neither torch nor the shared data. The last tests load the shipped artifact
with the real encoder; they skip when the ml extra is not installed.
"""

import csv
import importlib.util
import json
import shutil
import zlib

import numpy as np
import pytest

from socialdesk.triage.classify import HEADS, accurate
from socialdesk.triage.classify import train_accurate as train_accurate_module
from socialdesk.triage.classify.accurate import (
    AccurateClassifier,
    ArtifactError,
    MiniLMEncoder,
    MissingExtraError,
)
from socialdesk.triage.classify.datasets import YOUTUBE_FILES, load_youtube
from socialdesk.triage.classify.train import HeadData
from socialdesk.triage.classify.train_accurate import EmbeddingCache, fit_head, train_accurate


class FakeEncoder:
    """Bag of hashed words in a few dimensions, l2-normalised, like the real one."""

    name = "fake-words-16"
    dim = 16

    def __init__(self):
        self.calls = 0

    def __call__(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


class CountingEncoder(FakeEncoder):
    def __init__(self):
        super().__init__()
        self.texts = []

    def __call__(self, texts):
        self.texts += texts
        return super().__call__(texts)


class OtherEncoder(FakeEncoder):
    name = "another-model"


def _tweeteval(folder, names, examples_by_label):
    folder.mkdir(parents=True)
    (folder / "mapping.txt").write_text(
        "\n".join(f"{i}\t{name}" for i, name in enumerate(names)), encoding="utf-8")
    for split, rows in (("train", range(0, 14)), ("val", range(14, 20)),
                        ("test", range(20, 26))):
        texts, labels = [], []
        for i in rows:
            for label, template in examples_by_label.items():
                texts.append(template.format(i=i) + " ")
                labels.append(str(names.index(label)))
        (folder / f"{split}_text.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
        (folder / f"{split}_labels.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")


@pytest.fixture(scope="module", autouse=True)
def small_grid():
    """Two choices of C and one scale keep each training to a few dozen fits."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(train_accurate_module, "CHOICES_OF_C", (1.0, 10.0))
        patch.setattr(train_accurate_module, "CHOICES_OF_SCALE", (1.0,))
        yield


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """Every data set the heads learn from, a few dozen lines each."""
    data = tmp_path_factory.mktemp("tiny") / "data"
    te = data / "tweeteval"
    _tweeteval(te / "sentiment", ["negative", "neutral", "positive"], {
        "negative": "i hate this awful broken thing number {i}",
        "neutral": "the shop opens at {i} on tuesday",
        "positive": "i love this wonderful great day number {i}",
    })
    _tweeteval(te / "offensive", ["not-offensive", "offensive"], {
        "not-offensive": "have a nice evening friend {i}",
        "offensive": "shut up you stupid idiot {i}",
    })
    _tweeteval(te / "irony", ["non_irony", "irony"], {
        "non_irony": "the meeting is at {i} in room two",
        "irony": "oh great another monday {i} just what i needed",
    })
    complaints = data / "complaints-social-media"
    complaints.mkdir()
    with (complaints / "complaints-data.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        for i in range(20):
            writer.writerow([f"c{i}", f"@acme my order {i} never arrived and support ignores me",
                             "1", "retail"])
            writer.writerow([f"n{i}", f"@acme thanks for the quick help with order {i}",
                             "0", "retail"])
    youtube = data / "youtube-spam-collection"
    youtube.mkdir()
    for n, name in enumerate(YOUTUBE_FILES):
        with (youtube / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"])
            for i in range(4):
                writer.writerow([f"s{n}{i}", "a", "", f"check out my channel and subscribe {i}",
                                 "1"])
                writer.writerow([f"h{n}{i}", "b", "", f"this song is so beautiful {i}", "0"])
    twcs = data / "twcs-customer-support-on-twitter"
    twcs.mkdir()
    with (twcs / "twcs_first5000.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["tweet_id", "author_id", "inbound", "created_at", "text"])
        for i in range(6):
            writer.writerow([f"t{i}", "u", "True", "", f"@acme where is my parcel {i}"])
            writer.writerow([f"r{i}", "acme", "False", "", f"sorry to hear that {i}, dm us"])
    return data


def train(data, out, **options):
    """train_accurate with the fake encoder, its cache beside out, and no log."""
    return train_accurate(data, out, encoder=FakeEncoder(), cache_dir=out.parent / "cache",
                          log=lambda _line: None, **options)


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("trained") / "artifacts"
    meta = train(tiny_data, out, evaluate_heads=False)
    return out, meta


POSTS = [
    "i love this wonderful great day",
    "i hate this awful broken thing",
    "@acme my order never arrived and support ignores me",
    "@acme thanks for the quick help with my order",
    "check out my channel and subscribe",
    "this song is so beautiful",
    "shut up you stupid idiot",
    "have a nice evening friend",
]


def test_it_scores_every_head_with_probabilities(trained):
    out, _ = trained
    scores = AccurateClassifier.from_artifacts(out, encoder=FakeEncoder()).scores(POSTS)

    assert set(scores) == set(HEADS)
    assert scores["sentiment"].shape == (len(POSTS), 3)
    np.testing.assert_allclose(scores["sentiment"].sum(axis=1), 1.0, rtol=1e-5)
    for head in HEADS:
        assert np.all((scores[head] >= 0) & (scores[head] <= 1)), head
        if head != "sentiment":
            assert scores[head].shape == (len(POSTS),), head


def test_its_heads_learn_what_the_training_data_teaches(trained):
    out, _ = trained
    scores = AccurateClassifier.from_artifacts(out, encoder=FakeEncoder()).scores(POSTS)

    # sentiment columns: negative, neutral, positive
    assert scores["sentiment"][0].argmax() == 2
    assert scores["sentiment"][1].argmax() == 0
    assert scores["complaint"][2] > 0.5 > scores["complaint"][3]
    assert scores["spam"][4] > 0.5 > scores["spam"][5]
    assert scores["offensive"][6] > 0.5 > scores["offensive"][7]


def test_its_training_is_deterministic(tiny_data, tmp_path, trained):
    first, first_meta = trained
    second = tmp_path / "again"
    second_meta = train(tiny_data, second, evaluate_heads=False)

    assert second_meta == first_meta
    with np.load(first / "accurate-v1.npz") as a, np.load(second / "accurate-v1.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])


def test_its_metadata_describes_each_head(trained):
    out, meta = trained
    on_disk = json.loads((out / "accurate-v1.json").read_text())

    assert on_disk == meta
    assert meta["tier"] == "accurate" and meta["seed"] == 0
    assert meta["encoder"] == {"name": "fake-words-16", "dim": 16, "max_seq_length": 128,
                               "normalised": True, "text_version": 1}
    heads = {h["name"]: h for h in meta["heads"]}
    assert list(heads) == list(HEADS)
    assert heads["sentiment"]["classes"] == ["negative", "neutral", "positive"]
    assert heads["sentiment"]["examples"] == 42
    assert heads["sentiment"]["chosen_on"] == "validation split"
    assert heads["complaint"]["chosen_on"].startswith("5-fold cross-validation")
    assert heads["spam"]["trained_on"][0] == "youtube-spam-collection"


def test_it_records_each_heads_figure_when_asked(tiny_data, tmp_path):
    meta = train(tiny_data, tmp_path / "out")
    figures = {h["name"]: h["figure"] for h in meta["heads"]}

    assert figures["sentiment"]["measure"] == "macro-recall"
    assert figures["sentiment"]["on"] == "test split" and figures["sentiment"]["n"] == 18
    assert figures["complaint"]["on"] == "5-fold cross-validation"
    assert figures["complaint"]["n"] == 40
    # The tiny sets are separable by their words.
    assert all(f["value"] > 0.9 for f in figures.values()), figures


def test_it_learns_from_feedback(tiny_data, tmp_path):
    feedback = {"spam": [("win a free phone now", True)] * 3}
    meta = train(tiny_data, tmp_path / "out", feedback=feedback, evaluate_heads=False)
    spam = next(h for h in meta["heads"] if h["name"] == "spam")

    # 40 comments, 46 customer posts as not spam, 3 corrections
    assert spam["feedback_examples"] == 3 and spam["examples"] == 89


def test_its_encoder_reads_posts_without_their_handles(trained):
    out, _ = trained
    encoder = CountingEncoder()
    AccurateClassifier.from_artifacts(out, encoder=encoder).scores(
        ["@AcmeAir .@bob my bag is lost", "write to help@acme.example"])

    assert encoder.texts == ["my bag is lost", "write to help@acme.example"]


def test_it_scores_no_posts_as_empty_arrays(trained):
    out, _ = trained
    encoder = FakeEncoder()
    scores = AccurateClassifier.from_artifacts(out, encoder=encoder).scores([])

    assert scores["sentiment"].shape == (0, 3) and scores["spam"].shape == (0,)
    assert encoder.calls == 0


def test_it_rejects_heads_trained_on_another_encoder(trained):
    out, _ = trained
    with pytest.raises(ArtifactError, match="fake-words-16"):
        AccurateClassifier.from_artifacts(out, encoder=OtherEncoder())


def test_it_rejects_heads_from_another_version_of_the_tokens(trained, tmp_path):
    original, meta = trained
    out = tmp_path / "artifacts"
    shutil.copytree(original, out)
    (out / "accurate-v1.json").write_text(json.dumps({**meta, "features_version": -1}))
    with pytest.raises(ArtifactError, match="socialdesk train --tier accurate"):
        AccurateClassifier.from_artifacts(out, encoder=FakeEncoder())


def test_it_names_the_command_that_makes_a_missing_artifact(tmp_path):
    with pytest.raises(ArtifactError, match="socialdesk train --tier accurate"):
        AccurateClassifier.from_artifacts(tmp_path, encoder=FakeEncoder())


def test_it_names_the_extra_to_install_when_the_encoder_libraries_are_missing(monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "sentence_transformers" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(MissingExtraError, match=r"sentence-transformers.*socialdesk\[ml\]"):
        MiniLMEncoder()


def test_its_cache_encodes_each_text_once_and_keeps_them_between_runs(tmp_path):
    encoder = CountingEncoder()
    embed = EmbeddingCache(encoder, tmp_path / "cache")

    first = embed(["a post", "another post", "a post"])
    again = embed(["another post", "a third post"])
    later_run = EmbeddingCache(encoder, tmp_path / "cache")(["a third post", "a post"])

    assert encoder.texts == ["a post", "another post", "a third post"]
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(later_run, np.stack([again[1], first[0]]))
    np.testing.assert_array_equal(first, FakeEncoder()(["a post", "another post", "a post"]))


# The shipped artifact with the real encoder.

def _real_classifier():
    missing = accurate.missing_packages()
    if missing:
        pytest.skip(f"the ml extra is not installed ({', '.join(missing)}): "
                    "pip install 'socialdesk[ml]'")
    if not (accurate.ARTIFACTS / "accurate-v1.npz").exists():
        pytest.skip("the accurate artifact has not been built: socialdesk train --tier accurate")
    return AccurateClassifier.from_artifacts(encoder=MiniLMEncoder(threads=1))


def test_the_shipped_heads_read_obvious_posts_right():
    classifier = _real_classifier()
    scores = classifier.scores([
        "I absolutely love this, best day ever! Thank you so much",
        "This is the worst service ever. I hate it and I want my money back",
        "@AcmeAir my flight was cancelled and nobody answers the phone, two hours on hold",
        "Check out my channel and subscribe!! I make music videos too http://bit.ly/x",
        "Lovely weather in the park this afternoon",
    ])

    assert scores["sentiment"][0].argmax() == 2
    assert scores["sentiment"][1].argmax() == 0
    assert scores["complaint"][2] > 0.5 > scores["complaint"][4]
    assert scores["spam"][3] > 0.5 > scores["spam"][4]


def test_the_shipped_artifact_names_its_encoder_and_every_head():
    classifier = _real_classifier()

    assert classifier.tier == "accurate"
    assert classifier.meta["encoder"]["name"] == "all-MiniLM-L6-v2"
    assert [name for name, _ in classifier.heads] == list(HEADS)


def test_a_retrained_head_replaces_only_its_own_scores(trained, tiny_data):
    out, _ = trained
    encoder = FakeEncoder()
    classifier = AccurateClassifier.from_artifacts(out, encoder=encoder)
    # The spam head retrained on the comments with their labels swapped.
    comments = load_youtube(tiny_data / "youtube-spam-collection")
    swapped = [(text, not label) for text, label in comments]
    head = HeadData("spam", (False, True), swapped, None, ())
    retrained = classifier.with_head(fit_head(head, EmbeddingCache(encoder)))

    before, after = classifier.scores(POSTS), retrained.scores(POSTS)
    assert before["spam"][4] > 0.5 > after["spam"][4]
    assert after["spam"][5] > 0.5 > before["spam"][5]
    for other in ("sentiment", "complaint", "offensive", "irony"):
        np.testing.assert_allclose(after[other], before[other], rtol=1e-6)


def test_its_cache_finds_every_text_it_kept_in_a_later_run(tmp_path):
    # Keys are digests; one that ends in a zero byte must survive the round trip.
    texts = [f"post {i}" for i in range(2000)]
    awkward = next(t for t in texts if EmbeddingCache.key(t).endswith(b"\0"))
    EmbeddingCache(FakeEncoder(), tmp_path / "cache")([awkward, "plain"])

    encoder = CountingEncoder()
    EmbeddingCache(encoder, tmp_path / "cache")([awkward, "plain"])

    assert encoder.texts == []
