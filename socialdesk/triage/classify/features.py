"""Turn a post into the tokens the fast tier's linear models read.

One pass per post: normalise (case, links, handles dropped, stretched
letters), split into words, runs of ! and ?, and single
symbols (emoji), mark the words in the scope of a negation ("not happy" →
neg_happy), and add one lexicon token per word the VADER lexicon rates,
flipped under negation ("lex-2"). The lexicon
gives the models a prior on words too rare in the training data to learn.
Tokens are hashed (HashingVectorizer), so there is no vocabulary to ship.
"""

import re
from functools import cache

import numpy as np

# Part of the artifact's identity: change the analyser, bump this, retrain.
FEATURES_VERSION = 3
N_FEATURES = 2**20

_URL = re.compile(r"https?://\S+|www\.\S+")
# Handles say whom a post addresses or names, not what it says. Left in, they
# teach the models the data sets' accidents: in the complaints set nearly every
# complaint names a brand and most other tweets name nobody, so a post that
# merely tags the brand would read as a complaint; comment spam names nobody,
# so every post to a brand would read as safe.
_HANDLE = re.compile(r"\.?@\w+")
_STRETCHED = re.compile(r"(\w)\1{2,}")
_TOKEN = re.compile(r"[#@]?\w[\w'’]*|[!?]+|[^\w\s]")
_NEGATIONS = frozenset({
    "not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "cannot", "without",
    "dont", "cant", "wont", "isnt", "arent", "wasnt", "didnt", "doesnt", "couldnt", "shouldnt",
    "wouldnt", "havent", "hasnt", "aint",
})
# Punctuation that ends a negation's scope.
_SCOPE_END = frozenset(".,!?;:")


@cache
def lexicon() -> dict[str, str]:
    """word → its lexicon token, and "neg:" + word → the flipped one."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    tokens = {}
    for word, valence in SentimentIntensityAnalyzer().lexicon.items():
        level = round(valence)
        tokens[word] = f"lex{level:+d}"
        tokens["neg:" + word] = f"lex{-level:+d}"
    return tokens


def normalise(text: str) -> str:
    text = _URL.sub(" url ", text.lower())
    text = _HANDLE.sub(" ", text)
    return _STRETCHED.sub(r"\1\1", text)


def tokens(text: str) -> list[str]:
    lex = lexicon()
    text = normalise(text).replace("’", "'")
    found = _TOKEN.findall(text)
    if "n't" not in text and _NEGATIONS.isdisjoint(found):
        # Most posts negate nothing: no scope to track, one pass for the lexicon.
        found.extend([level for token in found
                      if token[0] not in _SCOPE_END and (level := lex.get(token.lstrip("#")))])
        return found
    out: list[str] = []
    rated: list[str] = []
    negating = False
    for token in found:
        if token[0] in _SCOPE_END:
            negating = False
            out.append(token)
            continue
        bare = token.lstrip("#")
        level = lex.get("neg:" + bare if negating else bare)
        if level:
            rated.append(level)
        out.append("neg_" + token if negating else token)
        if token in _NEGATIONS or token.endswith("n't"):
            negating = True
    out.extend(rated)
    return out


@cache
def vectoriser():
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(n_features=N_FEATURES, analyzer=tokens, alternate_sign=False,
                             norm="l2", dtype=np.float32)


def vectorise(texts: list[str]):
    """A sparse (len(texts) × N_FEATURES) matrix of l2-normalised token counts."""
    return vectoriser().transform(texts)
