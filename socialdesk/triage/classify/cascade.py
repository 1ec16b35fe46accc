"""Fast tier for every post, the accurate tier only where the fast one is unsure.

Unsure means: no sentiment reaches SURE, or the complaint head (the one
that decides whether a customer is answered) sits within BAND of its 0.5
boundary. The other heads only label a post or need corroboration, so
their doubt is not worth an embedding.
"""

import numpy as np

SURE = 0.5
BAND = 0.15
BINARY = ("complaint",)


class Cascade:
    tier = "cascade"

    def __init__(self, fast, accurate, sure: float = SURE, band: float = BAND):
        self.fast, self.accurate, self.sure, self.band = fast, accurate, sure, band
        self.version = f"{fast.version}+{accurate.version}"

    def unsure(self, scores: dict[str, np.ndarray]) -> np.ndarray:
        doubt = scores["sentiment"].max(axis=1) < self.sure
        for head in BINARY:
            doubt |= np.abs(scores[head] - 0.5) < self.band
        return doubt

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]:
        scores = self.fast.scores(texts)
        asked = self.unsure(scores) if texts else np.zeros(0, bool)
        if asked.any():
            better = self.accurate.scores([t for t, a in zip(texts, asked, strict=True) if a])
            for head, values in better.items():
                scores[head] = scores[head].copy()
                scores[head][asked] = values
        scores["asked"] = asked
        return scores
