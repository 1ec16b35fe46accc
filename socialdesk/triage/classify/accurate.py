"""The accurate tier: all-MiniLM-L6-v2 fine-tuned on the desk's own heads.

The encoder was trained with all five heads at once (finetune.py) and ships
in the artifacts folder as an ONNX graph with int8 weights, beside its
word-piece tokenizer: onnxruntime runs it on any CPU, with no deep-learning
framework and nothing downloaded. Each post is encoded into one
384-dimensional vector (the mean of its token vectors); the heads are one
linear layer over it, kept with the heads' metadata in accurate-v2.npz and
accurate-v2.json. The artifact can also hold weights over the fast tier's
hashed tokens, added to the same logits; the shipped one uses none.

Both libraries come with the optional extra: `pip install 'socialdesk[ml]'`.
The encoder is a seam: anything that maps a list of texts to an (n × dim)
float array, with a `name`, can stand in for it (tests use a tiny fake one).
"""

import importlib.util
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from socialdesk.triage.classify import features
from socialdesk.triage.classify.fast import ArtifactError, probabilities

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARTIFACT = "accurate-v2"
# all-MiniLM-L6-v2 after fine-tuning on the heads (finetune.py); the name
# changes whenever the graph does, so heads are never read with another one.
ENCODER_NAME = "all-MiniLM-L6-v2 tuned for triage, 1"
# Tweets and posts are short: 128 word pieces cover nearly all of them, and the
# cost of attention grows with the square of the length.
MAX_SEQ_LENGTH = 128
BATCH_SIZE = 64
INSTALL_HINT = "pip install 'socialdesk[ml]'"
# What the encoder is shown: the post without its handles. They say whom a post
# addresses, not what it says, and they differ between the training data (real
# handles in the complaints set, "@user" in TweetEval) and the desk (the brand's
# own handle on nearly every post); left in, "names a brand" would read as
# "complains". Part of the artifact's identity, like the features' version.
ENCODER_TEXT_VERSION = 1
_HANDLE = re.compile(r"(?<!\w)\.?@\w+")
_PACKAGES = {"onnxruntime": "onnxruntime", "tokenizers": "tokenizers"}


class MissingExtraError(ImportError):
    """The accurate tier's libraries are not installed."""


class Encoder(Protocol):
    name: str

    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


def missing_packages() -> list[str]:
    return [dist for module, dist in _PACKAGES.items()
            if importlib.util.find_spec(module) is None]


def encoder_text(text: str) -> str:
    # Only the handles go: the tokenizer splits on any run of spaces alike.
    return _HANDLE.sub("", text).strip()


class TunedEncoder:
    """The tuned encoder's ONNX graph, run by onnxruntime; loaded on first use.

    threads: how many CPU threads a batch may use; by default the
    TRIAGE_ENCODER_THREADS setting, else onnxruntime's own default (all
    cores). A desk whose workers share their cores sets it lower.
    """

    name = ENCODER_NAME
    dim = 384

    def __init__(self, folder: Path = ARTIFACTS, threads: int | None = None):
        missing = missing_packages()
        if missing:
            raise MissingExtraError(
                f"the accurate triage tier needs {', '.join(missing)}: {INSTALL_HINT}")
        self.graph = Path(folder) / f"{ARTIFACT}.onnx"
        self.vocabulary = Path(folder) / f"{ARTIFACT}.tokenizer.json"
        for path in (self.graph, self.vocabulary):
            if not path.exists():
                raise ArtifactError(f"{path}: the accurate tier's encoder is missing; "
                                    "run `socialdesk train --tier accurate`")
        self.threads = threads or int(os.environ.get("TRIAGE_ENCODER_THREADS") or 0) or None
        self._session = self._tokenizer = None

    def _load(self):
        if self._session is None:
            import onnxruntime
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.vocabulary))
            tokenizer.no_padding()  # each batch is padded to its own longest post
            tokenizer.enable_truncation(MAX_SEQ_LENGTH)
            options = onnxruntime.SessionOptions()
            if self.threads:
                options.intra_op_num_threads = self.threads
            self._session = onnxruntime.InferenceSession(
                str(self.graph), options, providers=["CPUExecutionProvider"])
            self._tokenizer = tokenizer
        return self._session, self._tokenizer

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return vectors
        session, tokenizer = self._load()
        pieces = [e.ids for e in tokenizer.encode_batch(list(texts))]
        # Posts of like length share a batch: less padding, less work.
        order = np.argsort([len(ids) for ids in pieces], kind="stable")
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start:start + BATCH_SIZE]
            width = max(len(pieces[i]) for i in rows)
            ids = np.zeros((len(rows), width), np.int64)
            mask = np.zeros((len(rows), width), np.int64)
            for row, i in enumerate(rows):
                ids[row, :len(pieces[i])] = pieces[i]
                mask[row, :len(pieces[i])] = 1
            vectors[rows] = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return vectors


class AccurateClassifier:
    """Scores posts with the heads in an accurate-v2 artifact.

    arrays: "embedding_weights" (dim × outputs; each head's embedding scale is
    folded in), "features" (the hashed features some head uses), "weights"
    (those features × outputs) and "intercepts" (outputs).
    """

    tier = "accurate"

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict,
                 encoder: Encoder | None = None, folder: Path = ARTIFACTS):
        if meta.get("features_version") != features.FEATURES_VERSION:
            raise ArtifactError(
                f"the accurate model was trained with features v{meta.get('features_version')}, "
                f"this code makes v{features.FEATURES_VERSION}: "
                "run `socialdesk train --tier accurate`")
        if meta["encoder"].get("text_version") != ENCODER_TEXT_VERSION:
            raise ArtifactError(
                f"the accurate model was trained on encoder text "
                f"v{meta['encoder'].get('text_version')}, this code makes "
                f"v{ENCODER_TEXT_VERSION}: run `socialdesk train --tier accurate`")
        expected = meta["encoder"]["name"]
        if encoder is None:
            if expected != ENCODER_NAME:
                raise ArtifactError(f"the accurate model was trained on {expected!r} embeddings, "
                                    f"which this version cannot load")
            encoder = TunedEncoder(folder)
        elif getattr(encoder, "name", None) != expected:
            raise ArtifactError(f"the accurate model was trained on {expected!r} embeddings, "
                                f"not {getattr(encoder, 'name', None)!r}")
        self.encoder = encoder
        self.meta = meta
        self.version = meta["version"]
        self.heads = [(h["name"], h["outputs"]) for h in meta["heads"]]
        self._embedding_weights = arrays["embedding_weights"].astype(np.float32)
        # hashed feature → row of the token weight matrix (row 0: unused features)
        used = arrays["features"]
        self._row = np.zeros(features.N_FEATURES, dtype=np.int32)
        self._row[used] = np.arange(1, len(used) + 1, dtype=np.int32)
        outputs = self._embedding_weights.shape[1]
        self._token_weights = np.vstack([np.zeros((1, outputs), np.float32),
                                         arrays["weights"].astype(np.float32)])
        self._intercepts = arrays["intercepts"].astype(np.float32)

    @classmethod
    def from_artifacts(cls, folder: Path = ARTIFACTS,
                       encoder: Encoder | None = None) -> "AccurateClassifier":
        try:
            meta = json.loads((Path(folder) / f"{ARTIFACT}.json").read_text())
            with np.load(Path(folder) / f"{ARTIFACT}.npz") as data:
                arrays = {k: data[k] for k in data.files}
        except FileNotFoundError as e:
            raise ArtifactError(f"{e.filename}: the accurate model is missing; "
                                "run `socialdesk train --tier accurate`") from None
        return cls(arrays, meta, encoder, folder)

    def logits(self, texts: list[str]) -> np.ndarray:
        embeddings = self.encoder([encoder_text(text) for text in texts])
        logits = embeddings @ self._embedding_weights + self._intercepts
        if len(self._token_weights) == 1:  # no head reads the tokens
            return logits
        from scipy.sparse import csr_matrix

        x = features.vectorise(texts)
        # Re-index the hashed columns onto the rows of the compact weight matrix.
        compact = csr_matrix((x.data, self._row[x.indices], x.indptr),
                             shape=(x.shape[0], len(self._token_weights)))
        return logits + compact @ self._token_weights

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        texts = list(texts)
        if not texts:
            return {name: np.zeros((0, n) if n > 1 else 0, np.float32) for name, n in self.heads}
        return probabilities(self.logits(texts), self.heads)

