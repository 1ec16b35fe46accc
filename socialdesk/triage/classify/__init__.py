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


# The default: the fast tier on every post, the accurate one on those the fast one
# is unsure of. Its judgement is the accurate tier's where it matters, at a rate
# far above any brand's live volume (docs/EVALUATION.md, docs/BENCHMARKS.md).
DEFAULT_TIER = "cascade"


def default_tier() -> str:
    """The TRIAGE_TIER setting; read from the environment so that helper
    processes, which have no Django settings, agree with the desk. The accurate
    tier's runtime (onnxruntime, tokenizers) is an ordinary dependency; where a
    platform has no build of it, the default falls back to the fast tier, and
    says so once."""
    tier = os.environ.get("TRIAGE_TIER") or DEFAULT_TIER
    if tier != "fast" and not _accurate_runtime():
        if os.environ.get("TRIAGE_TIER"):
            return tier  # asked for by name: loading it says what is missing
        return "fast"
    return tier


def use_tier(tier: str | None) -> None:
    """Triage with this tier in this process and its helpers (a command's --tier)."""
    if tier:
        if tier not in TIERS:
            raise ValueError(f"unknown triage tier {tier!r} (one of: {', '.join(TIERS)})")
        os.environ["TRIAGE_TIER"] = tier


@cache
def _accurate_runtime() -> bool:
    import importlib.util
    import logging

    missing = [name for name in ("onnxruntime", "tokenizers")
               if importlib.util.find_spec(name) is None]
    if missing:
        logging.getLogger(__name__).warning(
            "the cascade tier needs %s, which is not installed: triaging with the fast tier",
            " and ".join(missing))
    return not missing


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
