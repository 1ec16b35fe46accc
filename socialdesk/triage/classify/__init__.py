"""The desk's trained judgement: classifiers that score posts in batches.

Two tiers share one interface, `scores(texts) -> {head: probabilities}`:

- fast (default): logistic regressions over hashed tokens; needs only NumPy,
  SciPy and scikit-learn; tens of thousands of posts a second.
- accurate (`pip install 'socialdesk[ml]'`): all-MiniLM-L6-v2 fine-tuned on
  the same heads, run by onnxruntime from an int8 ONNX graph; hundreds of
  posts a second on a CPU.

`cascade` runs the fast tier on everything and asks the accurate tier only
about the posts the fast one is unsure of. The tier is a setting
(TRIAGE_TIER); heads: sentiment (n × 3: negative, neutral, positive),
complaint, offensive, spam, irony (n-vectors, probability of the class).
"""

import os
from functools import cache
from typing import Protocol

import numpy as np

HEADS = ("sentiment", "complaint", "offensive", "spam", "irony")
TIERS = ("fast", "accurate", "cascade")


class Classifier(Protocol):
    tier: str
    version: str

    def scores(self, texts: list[str]) -> dict[str, np.ndarray]: ...


def default_tier() -> str:
    """The TRIAGE_TIER setting; read from the environment so that helper
    processes, which have no Django settings, agree with the desk."""
    return os.environ.get("TRIAGE_TIER") or "fast"


@cache
def load(tier: str = "fast") -> Classifier:
    if tier not in TIERS:
        raise ValueError(f"unknown triage tier {tier!r} (one of: {', '.join(TIERS)})")
    from socialdesk.triage.classify.fast import FastClassifier

    fast = FastClassifier.from_artifacts()
    if tier == "fast":
        return fast
    from socialdesk.triage.classify.accurate import AccurateClassifier

    accurate = AccurateClassifier.from_artifacts()
    if tier == "accurate":
        return accurate
    from socialdesk.triage.classify.cascade import Cascade

    return Cascade(fast, accurate)
