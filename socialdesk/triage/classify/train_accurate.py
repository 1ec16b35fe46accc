"""Train the accurate tier's heads: `socialdesk train --tier accurate`.

The heads learn from the same public data as the fast tier (train.head_data).
Each is a logistic regression over [embedding × scale ‖ hashed tokens]; the
scale sets how much the embedding weighs against the tokens under one shared
regularisation, and it is chosen with C on data the head is not scored on:
the official validation split where there is one, otherwise a 5-fold
cross-validation inside the training data. The choice is made on the measure
the head is judged by (docs/EVALUATION.md): macro-recall for sentiment,
macro-F1 for offensive, the F1 of the flagged class for the others.

Encoding is the slow part (tens of posts a second on one CPU core), so each
text is encoded once per run, and the vectors are kept between runs in a cache
folder (default_cache_dir): retraining after a change to the tokens or with
agents' corrections encodes only the texts it has not seen. Training is
seeded: the same data and encoder give the same weights.
"""

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from socialdesk.triage.classify import features
from socialdesk.triage.classify.accurate import (
    ARTIFACT,
    ARTIFACTS,
    ENCODER_TEXT_VERSION,
    MAX_SEQ_LENGTH,
    Encoder,
    MiniLMEncoder,
    encoder_text,
)
from socialdesk.triage.classify.datasets import load_complaints, load_tweeteval, load_youtube
from socialdesk.triage.classify.fast import pack_arrays
from socialdesk.triage.classify.train import SEED, HeadData, head_data, head_data_for

CHOICES_OF_C = (0.3, 1.0, 3.0, 10.0, 30.0)
CHOICES_OF_SCALE = (0.5, 1.0, 2.0)
FOLDS = 5
ARTIFACT_VERSION = 1

Embed = Callable[[Sequence[str]], np.ndarray]


def _macro_recall(gold: np.ndarray, predicted: np.ndarray, classes: tuple) -> float:
    return float(np.mean([np.mean(predicted[gold == c] == c) for c in classes
                          if np.any(gold == c)]))


def _f1(gold: np.ndarray, predicted: np.ndarray, label) -> float:
    hits = np.sum((gold == label) & (predicted == label))
    whole = np.sum(gold == label) + np.sum(predicted == label)
    return float(2 * hits / whole) if whole else 0.0


def _macro_f1(gold: np.ndarray, predicted: np.ndarray, classes: tuple) -> float:
    return float(np.mean([_f1(gold, predicted, c) for c in classes]))


# The measure each head is judged by, as (name, function of gold, predicted, classes).
MEASURES = {
    "sentiment": ("macro-recall", _macro_recall),
    "offensive": ("macro-F1", _macro_f1),
}
FLAGGED_F1 = ("F1 of the flagged class", lambda gold, predicted, classes:
              _f1(gold, predicted, classes[-1]))


def measure(head: str) -> tuple[str, Callable]:
    return MEASURES.get(head, FLAGGED_F1)


class EmbeddingCache:
    """texts → embeddings through encoder, each distinct text encoded once.

    With a folder, the vectors are also kept there between runs (one shard of
    new vectors per call, under a subfolder named for the encoder), so a rerun
    of training encodes only the texts it has not seen.
    """

    def __init__(self, encoder: Encoder, folder: Path | None = None):
        self.encoder = encoder
        self.name = encoder.name
        self._vectors: dict[bytes, np.ndarray] = {}
        self.folder = None
        if folder is not None:
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in encoder.name)
            self.folder = Path(folder) / f"{safe}-{MAX_SEQ_LENGTH}"
            self.folder.mkdir(parents=True, exist_ok=True)
            for shard in sorted(self.folder.glob("shard-*.npz")):
                with np.load(shard) as data:
                    keys = [row.tobytes() for row in data["keys"]]
                    self._vectors.update(zip(keys, data["vectors"], strict=True))

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Remember vectors already made for texts (and write them as one shard)."""
        keys = [self.key(text) for text in texts]
        vectors = np.asarray(vectors, dtype=np.float32)
        self._vectors.update(zip(keys, vectors, strict=True))
        if self.folder is not None and keys:
            # Named for its contents: two runs writing at once cannot collide.
            digest = hashlib.blake2b(b"".join(keys), digest_size=8).hexdigest()
            shard = self.folder / f"shard-{digest}.npz"
            # Keys as rows of bytes: a bytes array ("S16") would drop trailing zero bytes.
            key_rows = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), -1)
            np.savez(shard, keys=key_rows, vectors=vectors)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self.key(text) for text in texts]
        new = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._vectors:
                new.setdefault(key, text)
        if new:
            self.add(list(new.values()), self.encoder(list(new.values())))
        if not keys:
            return np.zeros((0, 0), np.float32)
        return np.stack([self._vectors[key] for key in keys])


def _model(c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=3000, random_state=SEED)


@dataclass
class Inputs:
    """A list of posts as the heads read them: embeddings, hashed tokens, labels."""

    embeddings: np.ndarray
    tokens: object  # scipy.sparse CSR, N_FEATURES columns
    labels: np.ndarray

    @classmethod
    def of(cls, pairs: Sequence[tuple[str, object]], embed: Embed) -> "Inputs":
        texts = [text for text, _ in pairs]
        return cls(np.asarray(embed([encoder_text(text) for text in texts]), dtype=np.float32),
                   features.vectorise(texts),
                   np.asarray([label for _, label in pairs]))

    def take(self, rows: np.ndarray) -> "Inputs":
        return Inputs(self.embeddings[rows], self.tokens[rows], self.labels[rows])


@dataclass
class Linear:
    """A fitted head: logits = embeddings · embedding_coefᵀ + tokens[:, used] · token_coefᵀ
    + intercept, with rows in the head's own class order (one row for a binary head:
    the logit of its second class)."""

    classes: tuple
    embedding_coef: np.ndarray  # (outputs, dim), the scale folded in
    used: np.ndarray            # the hashed features seen in training
    token_coef: np.ndarray      # (outputs, len(used))
    intercept: np.ndarray       # (outputs,)

    def predict(self, inputs: Inputs) -> np.ndarray:
        z = (inputs.embeddings @ self.embedding_coef.T
             + inputs.tokens[:, self.used] @ self.token_coef.T + self.intercept)
        z = np.asarray(z)
        if len(self.intercept) == 1:
            return np.where(z[:, 0] > 0, self.classes[1], self.classes[0])
        return np.asarray(self.classes)[np.argmax(z, axis=1)]

    def full_token_coef(self) -> np.ndarray:
        coef = np.zeros((len(self.intercept), features.N_FEATURES), np.float32)
        coef[:, self.used] = self.token_coef
        return coef


def fit_path(classes: tuple, train: Inputs, scale: float, cs: Sequence[float],
             name: str = "") -> list[Linear]:
    """Logistic regressions over [embedding × scale ‖ tokens], one per C in cs.

    Each fit starts from zero: a fit warm-started from the previous C stops as
    soon as the gradient is under the tolerance, and on tens of thousands of
    posts the penalty's change alone does not lift it there, so the path would
    return the first model again and again.

    They are fitted on only the token columns the training posts use: the others
    would get zero weight anyway (their gradient is zero under the L2 penalty),
    and leaving out a million empty columns makes each fit many times faster.
    """
    from scipy.sparse import csr_matrix, hstack

    used = np.unique(train.tokens.indices).astype(np.int32)
    x = hstack([csr_matrix(train.embeddings * scale), train.tokens[:, used]], format="csr")
    dim = train.embeddings.shape[1]
    path = []
    for c in cs:
        model = _model(c).fit(x, train.labels)
        if tuple(model.classes_) != tuple(sorted(classes)):
            raise ValueError(f"{name}: training data lacks a class ({model.classes_})")
        coef, intercept = model.coef_, model.intercept_
        if len(classes) > 2:
            # Reorder the rows to the head's own class order.
            order = [list(model.classes_).index(k) for k in classes]
            coef, intercept = coef[order], intercept[order]
        elif tuple(model.classes_) != tuple(classes):
            coef, intercept = -coef, -intercept  # the positive class is the head's second
        path.append(Linear(tuple(classes), (coef[:, :dim] * scale).astype(np.float32), used,
                           coef[:, dim:].astype(np.float32), intercept.astype(np.float32)))
    return path


def fit_linear(classes: tuple, train: Inputs, scale: float, c: float, name: str = "") -> Linear:
    return fit_path(classes, train, scale, (c,), name)[0]


def choose(head: HeadData, train: Inputs, val: Inputs | None) -> tuple[float, float, dict]:
    """(scale, C, {"scale,C": score}): the best on val, or by cross-validation in train."""
    from sklearn.model_selection import StratifiedKFold

    _, score = measure(head.name)
    cs = CHOICES_OF_C
    if val is None:
        splits = [(train.take(fit_rows), train.take(held_rows)) for fit_rows, held_rows
                  in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
                  .split(train.labels, train.labels)]
    else:
        splits = [(train, val)]
    scores = {}
    for scale in CHOICES_OF_SCALE:
        predicted = {c: [] for c in cs}
        for fit_part, held_part in splits:
            for c, model in zip(cs, fit_path(head.classes, fit_part, scale, cs, head.name),
                                strict=True):
                predicted[c].append(model.predict(held_part))
        gold = np.concatenate([held.labels for _, held in splits])
        for c in cs:
            scores[(scale, c)] = score(gold, np.concatenate(predicted[c]), head.classes)
    # Ties go to the smaller scale and C: the simpler model.
    scale, c = max(scores, key=lambda k: (scores[k], -k[0], -k[1]))
    return scale, c, {f"{s:g},{c:g}": round(v, 4) for (s, c), v in scores.items()}


@dataclass
class TrainedHead:
    name: str
    scale: float
    c: float
    model: Linear
    n_train: int
    sources: tuple[str, ...]
    chosen_on: str
    selection: dict = field(default_factory=dict)

    @property
    def classes(self) -> tuple:
        return self.model.classes

    @property
    def outputs(self) -> int:
        return len(self.model.intercept)


def fit(head: HeadData, train: Inputs, val: Inputs | None) -> TrainedHead:
    scale, c, selection = choose(head, train, val)
    chosen_on = ("validation split" if val is not None
                 else f"{FOLDS}-fold cross-validation in the training data")
    return TrainedHead(head.name, scale, c, fit_linear(head.classes, train, scale, c, head.name),
                       len(train.labels), head.sources, chosen_on, selection)


def fit_head(head: HeadData, embed: Embed, extra: Sequence[tuple[str, object]] = ()
             ) -> TrainedHead:
    """One head by the tier's recipe; extra: more training pairs (agents' corrections)."""
    train = Inputs.of(list(head.train) + list(extra), embed)
    val = Inputs.of(head.val, embed) if head.val is not None else None
    return fit(head, train, val)


def _scored_set(head: str, data_dir: Path) -> list[tuple[str, object]]:
    """The labelled set a head's figure is measured on."""
    if head == "complaint":
        return load_complaints(data_dir / "complaints-social-media" / "complaints-data.csv")
    if head == "spam":
        return load_youtube(data_dir / "youtube-spam-collection")
    return load_tweeteval(data_dir / "tweeteval" / head, "test")


def cross_validate(name: str, items: list[tuple[str, object]], data_dir: Path,
                   embed: Embed) -> float:
    """The head's measure by 5-fold cross-validation over items, each fold's head
    trained by the whole recipe (its extra data and its choice of scale and C
    included) on the other folds."""
    from sklearn.model_selection import StratifiedKFold

    _, score = measure(name)
    gold = np.asarray([label for _, label in items])
    predicted = np.empty_like(gold)
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=SEED)
    for fit_rows, held_rows in folds.split(gold, gold):
        head = head_data_for(name, [items[i] for i in fit_rows], data_dir)
        trained = fit_head(head, embed)
        predicted[held_rows] = trained.model.predict(Inputs.of([items[i] for i in held_rows],
                                                               embed))
    return score(gold, predicted, trained.classes)


def evaluate(head: HeadData, trained: TrainedHead, data_dir: Path, embed: Embed) -> dict:
    """The head's reported figure: on the official test split where there is one,
    else by cross-validation. Never used for any choice."""
    name, score = measure(head.name)
    items = _scored_set(head.name, Path(data_dir))
    if head.val is not None:
        test = Inputs.of(items, embed)
        value, on = score(test.labels, trained.model.predict(test), head.classes), "test split"
    else:
        value = cross_validate(head.name, items, data_dir, embed)
        on = f"{FOLDS}-fold cross-validation"
    return {"measure": name, "value": round(value, 4), "on": on, "n": len(items)}


def pack(heads: list[TrainedHead]) -> dict[str, np.ndarray]:
    arrays = pack_arrays(np.vstack([h.model.full_token_coef() for h in heads]),
                         np.concatenate([h.model.intercept for h in heads]))
    arrays["embedding_weights"] = np.vstack([h.model.embedding_coef for h in heads]).T.copy()
    return arrays


def default_cache_dir() -> Path:
    """SOCIALDESK_CACHE_DIR, else the user's cache folder; embeddings go under it."""
    root = (os.environ.get("SOCIALDESK_CACHE_DIR")
            or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "socialdesk")
    return Path(root) / "embeddings"


def train_accurate(data_dir: Path, out_dir: Path = ARTIFACTS, encoder: Encoder | None = None,
                   cache_dir: Path | None = None, feedback: dict | None = None,
                   evaluate_heads: bool = True, log: Callable[[str], None] = print) -> dict:
    """Train every head; write accurate-v1.npz and its card data (accurate-v1.json).

    encoder: texts → embeddings (default: all-MiniLM-L6-v2 from the ml extra).
    cache_dir: where encoded texts are kept between runs (default_cache_dir()).
    feedback: extra (text, label) pairs per head name, from agents' corrections.
    evaluate_heads: also record each head's test (or cross-validated) figure.
    """
    data_dir, feedback = Path(data_dir), feedback or {}
    encoder = encoder if encoder is not None else MiniLMEncoder()
    embed = EmbeddingCache(encoder, cache_dir if cache_dir is not None else default_cache_dir())
    trained_heads, figures = [], {}
    for head in head_data(data_dir):
        start = time.perf_counter()
        trained = fit_head(head, embed, feedback.get(head.name, ()))
        trained_heads.append(trained)
        log(f"{head.name}: {trained.n_train:,} examples, scale={trained.scale:g}, "
            f"C={trained.c:g}, {time.perf_counter() - start:.1f}s")
        if evaluate_heads:
            figures[head.name] = evaluate(head, trained, data_dir, embed)
            log(f"{head.name}: {figures[head.name]['measure']} {figures[head.name]['value']:.4f}"
                f" ({figures[head.name]['on']})")
    arrays = pack(trained_heads)
    meta = {
        "tier": "accurate",
        "version": f"accurate-{ARTIFACT_VERSION}.{features.FEATURES_VERSION}",
        "features_version": features.FEATURES_VERSION,
        "n_features": features.N_FEATURES,
        "encoder": {"name": encoder.name, "dim": int(arrays["embedding_weights"].shape[0]),
                    "max_seq_length": MAX_SEQ_LENGTH, "normalised": True,
                    "text_version": ENCODER_TEXT_VERSION},
        "seed": SEED,
        "heads": [{"name": h.name, "classes": [str(c) for c in h.classes], "outputs": h.outputs,
                   "scale": h.scale, "C": h.c, "examples": h.n_train,
                   "trained_on": list(h.sources),
                   "feedback_examples": len(feedback.get(h.name, ())),
                   "chosen_on": h.chosen_on, "selection_scores": h.selection,
                   **({"figure": figures[h.name]} if h.name in figures else {})}
                  for h in trained_heads],
        "used_features": int(len(arrays["features"])),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / f"{ARTIFACT}.npz", "wb") as f:
        np.savez_compressed(f, **arrays)
    (out_dir / f"{ARTIFACT}.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta

