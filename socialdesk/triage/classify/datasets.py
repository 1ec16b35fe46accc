"""The public labelled data sets the models learn from and are scored on.

The data stays where it is published (the shared data folder, each set with a
SOURCE.md giving origin and licence) and is read in place; nothing is copied
into the repository. Each loader returns (text, label) pairs and raises
FileNotFoundError naming the first file it lacks.
"""

import csv
import html
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
YOUTUBE_FILES = ("Youtube01-Psy.csv", "Youtube02-KatyPerry.csv", "Youtube03-LMFAO.csv",
                 "Youtube04-Eminem.csv", "Youtube05-Shakira.csv")
SENTIMENTS = ("negative", "neutral", "positive")
# The hand-labelled customer tweets of the ERICSSON paper, one file per brand.
SUPPORT_BRANDS = ("AmazonHelp", "AppleSupport", "SpotifyCares")


def default_data_dir() -> Path:
    return Path(os.environ.get("SOCIALDESK_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")


def _lines(path: Path) -> list[str]:
    # split("\n"), not splitlines(): tweets may hold U+2028 and other breaks
    # that would shift every later line against its label.
    text = path.read_text(encoding="utf-8")
    return text.removesuffix("\n").split("\n")


def load_tweeteval(task_dir: Path, split: str = "test") -> list[tuple[str, str]]:
    """A TweetEval split. The sentiment training text exists only as a
    reconstruction (see its SOURCE.md); its two lost lines are left out."""
    names = dict(line.split("\t") for line in _lines(task_dir / "mapping.txt") if line)
    texts_file = task_dir / f"{split}_text.txt"
    if split == "train" and not texts_file.exists():
        texts_file = task_dir / "train_text.reconstructed.txt"
    texts = _lines(texts_file)
    labels = _lines(task_dir / f"{split}_labels.txt")
    if len(texts) != len(labels):
        raise ValueError(f"{task_dir}: {len(texts)} {split} texts but {len(labels)} labels")
    pairs = zip(texts, labels, strict=True)
    return [(text.rstrip(), names[label.strip()]) for text, label in pairs if text.strip()]


def load_complaints(path: Path) -> list[tuple[str, bool]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(text, label == "1") for _id, text, label, _domain in csv.reader(f)]


def load_youtube(folder: Path) -> list[tuple[str, bool]]:
    items = []
    for name in YOUTUBE_FILES:
        with (folder / name).open(encoding="utf-8", newline="") as f:
            items += [(html.unescape(row["CONTENT"]).strip("\ufeff \n"), row["CLASS"] == "1")
                      for row in csv.DictReader(f)]
    return items


def load_suggestions(path: Path) -> list[tuple[str, bool]]:
    """SemEval 2019 task 9 (subtask A) sentences: (sentence, is a suggestion). The
    evaluation file has no header; a line that is not id, sentence, label is skipped."""
    with path.open(encoding="utf-8", newline="") as f:
        return [(row[1], row[2].strip() == "1") for row in csv.reader(f)
                if len(row) == 3 and row[2].strip() in ("0", "1")]


def load_customer_posts(data_dir: Path) -> list[str]:
    """Ordinary customer posts to brands: the complaints set's tweets and the inbound
    tweets of the Customer Support on Twitter sample. None is spam; the spam head
    learns from them what a brand's own mentions look like (the YouTube comments it
    otherwise learns from are about music videos)."""
    posts = [text for text, _ in load_complaints(
        data_dir / "complaints-social-media" / "complaints-data.csv")]
    path = data_dir / "twcs-customer-support-on-twitter" / "twcs_first5000.csv"
    with path.open(encoding="utf-8", newline="") as f:
        posts += [row["text"] for row in csv.DictReader(f) if row["inbound"] == "True"]
    return posts


def load_support_tweets(folder: Path) -> list[tuple[str, str, frozenset[str]]]:
    """(text, brand, topics) for the labelled customer tweets to three brands' support
    accounts (twcs-ericsson-labeled). Every one of them was answered by the brand."""
    items = []
    for brand in SUPPORT_BRANDS:
        with (folder / f"twcs-{brand}-200-inbound.csv").open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            topics = reader.fieldnames[reader.fieldnames.index("company") + 1:]
            items += [(row["text"], brand, frozenset(t for t in topics if row[t] == "1"))
                      for row in reader]
    return items
