"""Score the first triage tier on public labelled data (docs/EVALUATION.md).

Nothing here is trained: the lexicon and the rules are fixed, so every labelled
row a data set offers is test data. The data is read in place from the shared
folder and never copied into the repository.
"""

import csv
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from socialdesk.triage.engine import PostInput, TriageResult, triage_batch
from socialdesk.triage.policy import Policy, default_policy

REPO_ROOT = Path(__file__).resolve().parents[2]
THROUGHPUT = "throughput, posts/s"
YOUTUBE_FILES = ("Youtube01-Psy.csv", "Youtube02-KatyPerry.csv", "Youtube03-LMFAO.csv",
                 "Youtube04-Eminem.csv", "Youtube05-Shakira.csv")
# Categories that mean "this person is unhappy with us" for the broader complaint reading.
COMPLAINT_LIKE = frozenset({"complaint", "crisis", "abuse", "rant"})
# Enough posts to load VADER and the language model before the clock starts.
WARM_UP = 200


@dataclass(frozen=True, slots=True)
class Row:
    measure: str
    dataset: str
    n: int
    value: float | None
    note: str


def default_data_dir() -> Path:
    return Path(os.environ.get("SOCIALDESK_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")


# Loaders: each returns (text, gold label) pairs and raises FileNotFoundError
# naming the first file it lacks.

def _lines(path: Path) -> list[str]:
    # split("\n"), not splitlines(): tweets may hold U+2028 and other breaks
    # that would shift every later line against its label.
    text = path.read_text(encoding="utf-8")
    return text.removesuffix("\n").split("\n")


def load_tweeteval(task_dir: Path, split: str = "test") -> list[tuple[str, str]]:
    names = dict(line.split("\t") for line in _lines(task_dir / "mapping.txt") if line)
    texts = _lines(task_dir / f"{split}_text.txt")
    labels = _lines(task_dir / f"{split}_labels.txt")
    if len(texts) != len(labels):
        raise ValueError(f"{task_dir}: {len(texts)} {split} texts but {len(labels)} labels")
    pairs = zip(texts, labels, strict=True)
    return [(text.rstrip(), names[label.strip()]) for text, label in pairs]


def load_complaints(path: Path) -> list[tuple[str, bool]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(text, label == "1") for _id, text, label, _domain in csv.reader(f)]


def load_youtube(folder: Path) -> list[tuple[str, bool]]:
    items = []
    for name in YOUTUBE_FILES:
        with (folder / name).open(encoding="utf-8", newline="") as f:
            items += [(row["CONTENT"].strip("\ufeff \n"), row["CLASS"] == "1")
                      for row in csv.DictReader(f)]
    return items


# Metrics, written out so the figures do not depend on a machine-learning library.
# A ratio with a zero denominator counts as 0, as scikit-learn does by default.

def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def recall(gold: Sequence, predicted: Sequence, label) -> float:
    relevant = [p for g, p in zip(gold, predicted, strict=True) if g == label]
    return _ratio(sum(p == label for p in relevant), len(relevant))


def macro_recall(gold: Sequence, predicted: Sequence, labels: Sequence) -> float:
    return sum(recall(gold, predicted, label) for label in labels) / len(labels)


def f1(gold: Sequence, predicted: Sequence, label) -> float:
    pairs = list(zip(gold, predicted, strict=True))
    hits = sum(g == label and p == label for g, p in pairs)
    # F1 = 2TP / (2TP + FP + FN); the gold and predicted counts are TP+FN and TP+FP.
    return _ratio(2 * hits, sum(g == label for g, _ in pairs) + sum(p == label for _, p in pairs))


def per_class_f1(gold: Sequence, predicted: Sequence, labels: Sequence) -> dict:
    return {label: f1(gold, predicted, label) for label in labels}


def macro_f1(gold: Sequence, predicted: Sequence, labels: Sequence) -> float:
    return sum(per_class_f1(gold, predicted, labels).values()) / len(labels)


def _triage(texts: Sequence[str], channel: str, policy: Policy) -> list[TriageResult]:
    posts = [PostInput(channel, str(i), text) for i, text in enumerate(texts)]
    return triage_batch(posts, policy)


def sentiment_rows(data_dir: Path, policy: Policy) -> list[Row]:
    items = load_tweeteval(data_dir / "tweeteval" / "sentiment")
    texts, gold = zip(*items, strict=True)
    _triage(texts[:WARM_UP], "x", policy)
    start = time.perf_counter()
    results = _triage(texts, "x", policy)
    seconds = time.perf_counter() - start
    predicted = [r.sentiment for r in results]
    dataset, n = "tweeteval/sentiment test", len(items)
    return [
        Row("sentiment macro-recall", dataset, n,
            macro_recall(gold, predicted, ("negative", "neutral", "positive")),
            "3 classes; VADER compound, thresholds ±0.05"),
        Row(THROUGHPUT, dataset, n, n / seconds,
            "language + sentiment + cues + category + policy; one process, no database"),
    ]


def complaint_rows(data_dir: Path, policy: Policy) -> list[Row]:
    items = load_complaints(data_dir / "complaints-social-media" / "complaints-data.csv")
    texts, gold = zip(*items, strict=True)
    results = _triage(texts, "x", policy)
    narrow = [r.category == "complaint" for r in results]
    broad = [r.category in COMPLAINT_LIKE or r.sentiment == "negative" for r in results]
    dataset, n = "complaints-social-media (all)", len(items)
    return [
        Row("complaint F1", dataset, n, f1(gold, narrow, True),
            "complaint = category complaint; no training, whole set is test"),
        Row("negative-or-complaint F1", dataset, n, f1(gold, broad, True),
            "complaint = complaint/crisis/abuse/rant or sentiment negative"),
    ]


def offensive_rows(data_dir: Path, policy: Policy) -> list[Row]:
    items = load_tweeteval(data_dir / "tweeteval" / "offensive")
    texts, gold = zip(*items, strict=True)
    predicted = ["offensive" if r.category == "abuse" else "not-offensive"
                 for r in _triage(texts, "x", policy)]
    return [Row("offensive macro-F1", "tweeteval/offensive test", len(items),
                macro_f1(gold, predicted, ("not-offensive", "offensive")),
                "offensive = category abuse; mean F1 of both classes")]


def spam_rows(data_dir: Path, policy: Policy) -> list[Row]:
    items = load_youtube(data_dir / "youtube-spam-collection")
    texts, gold = zip(*items, strict=True)
    predicted = [r.category == "spam" for r in _triage(texts, "youtube", policy)]
    return [Row("spam F1", "youtube-spam-collection (all 5)", len(items), f1(gold, predicted, True),
                "spam = category spam; no training, whole set is test")]


# (data set, measures it yields, function): the first two name the rows when the data is absent.
CHECKS: tuple[tuple[str, tuple[str, ...], Callable[[Path, Policy], list[Row]]], ...] = (
    ("tweeteval/sentiment test", ("sentiment macro-recall", THROUGHPUT), sentiment_rows),
    ("complaints-social-media (all)", ("complaint F1", "negative-or-complaint F1"),
     complaint_rows),
    ("tweeteval/offensive test", ("offensive macro-F1",), offensive_rows),
    ("youtube-spam-collection (all 5)", ("spam F1",), spam_rows),
)


def _first_missing(path: Path) -> Path:
    # Name the data set's folder, not a file inside it, when the whole set is absent.
    while not path.parent.exists():
        path = path.parent
    return path


def evaluate(data_dir: Path) -> list[Row]:
    policy = default_policy()
    rows = []
    for dataset, measures, check in CHECKS:
        try:
            rows += check(Path(data_dir), policy)
        except FileNotFoundError as e:
            note = f"skipped: {_first_missing(Path(e.filename))} not found"
            rows += [Row(measure, dataset, 0, None, note) for measure in measures]
    return rows
