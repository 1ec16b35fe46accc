"""The fast tier: every head in one sparse product over hashed tokens."""

import json
from pathlib import Path

import numpy as np

from socialdesk.triage.classify import features

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def pack_arrays(coef: np.ndarray, intercepts: np.ndarray) -> dict[str, np.ndarray]:
    """Weights as stored: only the hashed features some head uses, as float16.

    All heads share one weight matrix (used features × outputs), so scoring a
    batch is a single sparse product.
    """
    used = np.flatnonzero(np.any(np.abs(coef) >= 1e-4, axis=0)).astype(np.int32)
    return {"features": used, "weights": coef[:, used].T.astype(np.float16),
            "intercepts": intercepts.astype(np.float32)}


class ArtifactError(RuntimeError):
    pass


class FastClassifier:
    tier = "fast"

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict):
        if meta.get("features_version") != features.FEATURES_VERSION:
            raise ArtifactError(
                f"the fast model was trained with features v{meta.get('features_version')}, "
                f"this code makes v{features.FEATURES_VERSION}: run `socialdesk train`")
        self.meta = meta
        self.version = meta["version"]
        self.heads = [(h["name"], h["outputs"]) for h in meta["heads"]]
        # hashed feature → row of the weight matrix (row 0 is all zeros: unused features)
        used = arrays["features"]
        self._row = np.zeros(features.N_FEATURES, dtype=np.int32)
        self._row[used] = np.arange(1, len(used) + 1, dtype=np.int32)
        outputs = arrays["weights"].shape[1]
        self._weights = np.vstack([np.zeros((1, outputs), np.float32),
                                   arrays["weights"].astype(np.float32)])
        self._intercepts = arrays["intercepts"].astype(np.float32)

    @classmethod
    def from_artifacts(cls, folder: Path = ARTIFACTS) -> "FastClassifier":
        try:
            meta = json.loads((folder / "fast-v1.json").read_text())
            with np.load(folder / "fast-v1.npz") as data:
                arrays = {k: data[k] for k in data.files}
        except FileNotFoundError as e:
            raise ArtifactError(f"{e.filename}: the fast model is missing; "
                                "run `socialdesk train`") from None
        return cls(arrays, meta)

    def dense_coef(self) -> np.ndarray:
        """All heads' weights over every hashed feature: (outputs, N_FEATURES)."""
        coef = np.zeros((len(self._intercepts), features.N_FEATURES), np.float32)
        used = np.flatnonzero(self._row)
        coef[:, used] = self._weights[self._row[used]].T
        return coef

    def with_head(self, trained) -> "FastClassifier":
        """A copy with one head replaced by a retrained one (cross-validation)."""
        coef, intercepts, col = self.dense_coef(), self._intercepts.copy(), 0
        for name, n in self.heads:
            if name == trained.name:
                coef[col:col + n], intercepts[col:col + n] = trained.coef, trained.intercept
            col += n
        arrays = pack_arrays(coef, intercepts)
        return FastClassifier(arrays, self.meta)

    def logits(self, texts: list[str]) -> np.ndarray:
        from scipy.sparse import csr_matrix

        x = features.vectorise(texts)
        # Re-index the hashed columns onto the rows of the compact weight matrix.
        compact = csr_matrix((x.data, self._row[x.indices], x.indptr),
                             shape=(x.shape[0], len(self._weights)))
        return compact @ self._weights + self._intercepts

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        if not texts:
            return {name: np.zeros((0, n) if n > 1 else 0, np.float32) for name, n in self.heads}
        return probabilities(self.logits(texts), self.heads)


def probabilities(z: np.ndarray, heads: list[tuple[str, int]]) -> dict[str, np.ndarray]:
    """Per head: a sigmoid of its one logit, or a softmax over its several."""
    out, col = {}, 0
    for name, n in heads:
        if n == 1:
            out[name] = 1.0 / (1.0 + np.exp(-z[:, col]))
        else:
            block = z[:, col:col + n]
            e = np.exp(block - block.max(axis=1, keepdims=True))
            out[name] = e / e.sum(axis=1, keepdims=True)
        col += n
    return out
