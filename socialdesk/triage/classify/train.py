"""Train the fast tier's heads from the public labelled data: `socialdesk train`.

Every head is a logistic regression over the same hashed tokens
(features.py), so the whole tier is one sparse matrix product at run time.
Class weights are balanced because the desk is judged on every class
(macro-recall, complaint F1), not on the majority one. The regularisation of
each head is chosen on data it is not scored on: the official validation
split where one exists, otherwise a cross-validation inside the training
data. Training is seeded and deterministic: the same data gives the same
artifact, byte for byte.
"""

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from socialdesk.triage.classify import features
from socialdesk.triage.classify.datasets import (
    SENTIMENTS,
    load_complaints,
    load_customer_posts,
    load_tweeteval,
    load_youtube,
)
from socialdesk.triage.classify.fast import pack_arrays

SEED = 0
CHOICES_OF_C = (1.0, 3.0, 10.0)
# Bumped when the recipe changes the weights while the features stay the same.
RECIPE = 2
# Offsets tried for each class's logit (see balance_offsets).
OFFSETS = np.round(np.arange(-1.0, 1.0001, 0.05), 2)
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@dataclass(frozen=True)
class HeadData:
    """What one head learns from: training pairs, and pairs to choose C on (or
    None: choose by cross-validation inside the training pairs)."""

    name: str
    classes: tuple
    train: list[tuple[str, object]]
    val: list[tuple[str, object]] | None
    sources: tuple[str, ...]


def head_data(data_dir: Path) -> list[HeadData]:
    """The heads of the fast tier and the data sets each learns from."""
    te = data_dir / "tweeteval"
    return [
        HeadData("sentiment", SENTIMENTS, load_tweeteval(te / "sentiment", "train"),
                 load_tweeteval(te / "sentiment", "val"), ("tweeteval/sentiment train",)),
        HeadData("complaint", (False, True),
                 load_complaints(data_dir / "complaints-social-media" / "complaints-data.csv"),
                 None, ("complaints-social-media",)),
        HeadData("offensive", ("not-offensive", "offensive"),
                 load_tweeteval(te / "offensive", "train"),
                 load_tweeteval(te / "offensive", "val"), ("tweeteval/offensive train",)),
        HeadData("spam", (False, True),
                 load_youtube(data_dir / "youtube-spam-collection") + _not_spam(data_dir),
                 None, SPAM_SOURCES),
        HeadData("irony", ("non_irony", "irony"), load_tweeteval(te / "irony", "train"),
                 load_tweeteval(te / "irony", "val"), ("tweeteval/irony train",)),
    ]


def _not_spam(data_dir: Path) -> list[tuple[str, bool]]:
    return [(text, False) for text in load_customer_posts(data_dir)]


SPAM_SOURCES = ("youtube-spam-collection",
                "complaints-social-media and twcs-customer-support-on-twitter "
                "(customer posts, as not spam)")


def head_data_for(name: str, train: list[tuple[str, object]], data_dir: Path) -> HeadData:
    """A head's recipe with other training pairs (cross-validation folds); C is then
    chosen by cross-validation inside those pairs."""
    if name == "complaint":
        return HeadData(name, (False, True), train, None, ())
    if name == "spam":
        return HeadData(name, (False, True), train + _not_spam(data_dir), None, ())
    raise ValueError(f"no cross-validation recipe for the {name} head")


def _model(c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=SEED)


def _score(classes: tuple, gold, predicted) -> float:
    """Macro-recall: what the desk cares about for every head (no class ignored)."""
    gold, predicted = np.asarray(gold), np.asarray(predicted)
    return float(np.mean([np.mean(predicted[gold == c] == c) for c in classes
                          if np.any(gold == c)]))


def choose_and_fit(head: HeadData, x, y, columns: np.ndarray):
    """The model with the C that scores best on the validation split, or by 5-fold
    cross-validation inside the training data; (C, fitted model)."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(y)
    if head.val is not None:
        xv = features.vectorise([t for t, _ in head.val])[:, columns]
        yv = [label for _, label in head.val]
        # Each C from scratch: a warm start from the last C's solution can stop at
        # once, its gradient already under the solver's tolerance.
        best = None
        for c in CHOICES_OF_C:
            model = _model(c).fit(x, y)
            score = _score(head.classes, yv, model.predict(xv))
            if best is None or score > best[0]:
                best = (score, c, model)
        return best[1], best[2]
    folds = list(StratifiedKFold(5, shuffle=True, random_state=SEED).split(x, y))
    scores = {}
    for c in CHOICES_OF_C:
        predicted = np.empty_like(y)
        for train, test in folds:
            predicted[test] = _model(c).fit(x[train], y[train]).predict(x[test])
        scores[c] = _score(head.classes, y, predicted)
    c = max(CHOICES_OF_C, key=lambda c: (scores[c], -c))
    return c, _model(c).fit(x, y)


@dataclass
class TrainedHead:
    name: str
    classes: tuple
    c: float
    coef: np.ndarray       # (outputs, N_FEATURES); one output for a binary head
    intercept: np.ndarray  # (outputs,)
    n_train: int
    sources: tuple[str, ...]
    # Logit offsets chosen on the validation split (balance_offsets), already in `intercept`.
    offsets: tuple[float, ...] = ()


def fit_head(head: HeadData, extra: Sequence[tuple[str, object]] = ()) -> TrainedHead:
    pairs = list(head.train) + list(extra)
    x = features.vectorise([t for t, _ in pairs])
    y = np.asarray([label for _, label in pairs])
    # Fit over the hashed columns that occur, not all 2**20: the optimiser's
    # vector work per step shrinks by as much, the solution is the same.
    seen = np.unique(x.indices)
    c, model = choose_and_fit(head, x[:, seen], y, seen)
    if tuple(model.classes_) != tuple(sorted(head.classes)):
        raise ValueError(f"{head.name}: training data lacks a class ({model.classes_})")
    coef = np.zeros((len(model.coef_), features.N_FEATURES), np.float32)
    coef[:, seen] = model.coef_
    intercept, offsets = model.intercept_, np.zeros(0)
    if len(head.classes) > 2:
        # Reorder the rows to the head's own class order.
        order = [list(model.classes_).index(k) for k in head.classes]
        coef, intercept = coef[order], intercept[order]
        if head.val is not None:
            z = features.vectorise([t for t, _ in head.val]) @ coef.T + intercept
            offsets = balance_offsets(z, [label for _, label in head.val], head.classes)
            intercept = intercept + offsets
    elif tuple(model.classes_) != head.classes:
        coef, intercept = -coef, -intercept  # positive class is the head's second
    return TrainedHead(head.name, head.classes, c, coef.astype(np.float32),
                       intercept.astype(np.float32), len(pairs), head.sources,
                       tuple(round(float(o), 2) for o in offsets))


def balance_offsets(z: np.ndarray, gold: Sequence, classes: tuple) -> np.ndarray:
    """Per-class logit offsets that give the best macro-recall on validation data.

    Balanced class weights equalise the classes in training, not their recall:
    on TweetEval the neutral tweets, the hardest class, stay under-called. The
    first class is held at 0 and every pair of offsets for the others is tried
    on a grid; ties go to the smaller total shift. Validation data only: the
    test split is never read here.
    """
    gold = np.asarray([classes.index(label) for label in gold])
    best = (-1.0, 0.0, np.zeros(len(classes)))
    for shifts in np.array(np.meshgrid(*[OFFSETS] * (len(classes) - 1))).T.reshape(
            -1, len(classes) - 1):
        offsets = np.concatenate([[0.0], shifts])
        predicted = (z + offsets).argmax(axis=1)
        score = float(np.mean([np.mean(predicted[gold == k] == k)
                               for k in range(len(classes)) if np.any(gold == k)]))
        key = (score, -float(np.abs(shifts).sum()))
        if key > best[:2]:
            best = (*key, offsets)
    return best[2].astype(np.float32)


def pack(heads: list[TrainedHead]) -> dict[str, np.ndarray]:
    return pack_arrays(np.vstack([h.coef for h in heads]),
                       np.concatenate([h.intercept for h in heads]))


def train_fast(data_dir: Path, out_dir: Path = ARTIFACTS, feedback: dict | None = None,
               log: Callable[[str], None] = print) -> dict:
    """Train every head, write fast-v1.npz and its card data (fast-v1.json) to out_dir.

    feedback: extra (text, label) pairs per head name, from agents' corrections.
    """
    feedback = feedback or {}
    heads = []
    for head in head_data(Path(data_dir)):
        start = time.perf_counter()
        trained = fit_head(head, feedback.get(head.name, ()))
        heads.append(trained)
        log(f"{head.name}: {trained.n_train:,} examples, C={trained.c:g}, "
            f"{time.perf_counter() - start:.1f}s")
    arrays = pack(heads)
    meta = {
        "tier": "fast",
        "version": f"fast-{features.FEATURES_VERSION}.{RECIPE}",
        "features_version": features.FEATURES_VERSION,
        "n_features": features.N_FEATURES,
        "seed": SEED,
        "heads": [{"name": h.name, "classes": [str(c) for c in h.classes],
                   "outputs": len(h.intercept), "C": h.c, "examples": h.n_train,
                   **({"offsets": list(h.offsets)} if h.offsets else {}),
                   "trained_on": list(h.sources),
                   "feedback_examples": len(feedback.get(h.name, ()))} for h in heads],
        "used_features": int(len(arrays["features"])),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Uncompressed savez with fixed arrays is byte-for-byte reproducible; the
    # weights are float16 to keep the file small.
    with open(out_dir / "fast-v1.npz", "wb") as f:
        np.savez_compressed(f, **arrays)
    (out_dir / "fast-v1.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def feedback_pairs(corrections: list[tuple[str, str, str, str]]) -> dict[str, list]:
    """Agents' corrections (text, field, value, previous) as training pairs per head.

    A sentiment correction is a sentiment label. A category correction says
    the post is of the new category and, where the old one was what a head
    detects, that it is not of the old one: "complaint → praise" teaches the
    complaint head a negative example; "question → complaint" a positive one.
    """
    heads: dict[str, list] = {"sentiment": [], "complaint": [], "offensive": [], "spam": []}
    detected = {"complaint": ("complaint", True, False), "spam": ("spam", True, False),
                "abuse": ("offensive", "offensive", "not-offensive")}
    for text, field, value, previous in corrections:
        if field == "sentiment" and value in SENTIMENTS:
            heads["sentiment"].append((text, value))
        elif field == "category":
            for category, (head, yes, no) in detected.items():
                if value == category:
                    heads[head].append((text, yes))
                elif previous == category:
                    heads[head].append((text, no))
    return {head: pairs for head, pairs in heads.items() if pairs}
