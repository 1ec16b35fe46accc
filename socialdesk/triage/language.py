"""The language of each post in a batch.

py3langid's model ships in its package: a byte automaton whose states name
n-gram features, then naive Bayes over the counts. Walking the automaton one
post at a time in Python costs about 50 µs a post, as much as the rest of the
fast tier together, so the batch walks it in step with NumPy: one array
operation per byte position for every post still that long. The result is
the model's own answer (a test compares the two).

Plain-ASCII text with several English function words is taken as English
without asking the model: it is cheaper still, and the model misreads
all-caps English as Portuguese or German.
"""

import unicodedata
from functools import cache

import numpy as np

LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "tr", "ru",
             "ar", "hi", "ja", "ko", "zh", "id"]
# Words frequent in English and rare as words of the other languages above
# ("in", "is", "a", "de", "en", "die" are left out: they are words elsewhere too).
_ENGLISH = frozenset("""
the and you your my our this that with have has had was were are be been for from
not but what when where why how which who will would could should can't don't it's
i'm i've just about there their they them our out get got any some very really
""".split())
# Distinct English words needed before the shortcut trusts them.
_ENOUGH = 3
# The language of a long post is read from its beginning.
MAX_BYTES = 1000


@cache
def _model():
    import py3langid.langid as langid

    identifier = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    identifier.set_languages(LANGUAGES)
    return (np.asarray(identifier.tk_nextmove, dtype=np.int64),
            np.asarray(identifier.tk_row, dtype=np.int64) << 8,
            np.asarray(identifier.tk_output, dtype=np.int64),
            np.asarray(identifier.nb_ptc, dtype=np.float32),
            np.asarray(identifier.nb_pc, dtype=np.float32),
            list(identifier.nb_classes))


def _encode(text: str) -> bytes:
    # As py3langid prepares a text: all-caps lowered, NFC, UTF-8.
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")[:MAX_BYTES]


def _identify(texts: list[str]) -> list[str]:
    """py3langid's answer for each text, computed for the whole batch at once."""
    from scipy.sparse import csr_matrix

    nextmove, rowbase, output, ptc, pc, classes = _model()
    encoded = [_encode(t) for t in texts]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    order = np.argsort(-lengths, kind="stable")  # longest first: the active rows are a prefix
    width = int(lengths.max(initial=0))
    grid = np.zeros((len(encoded), width), dtype=np.uint8)
    for row, i in enumerate(order):
        grid[row, :lengths[i]] = np.frombuffer(encoded[i], dtype=np.uint8)
    sorted_lengths = lengths[order]
    state = np.zeros(len(encoded), dtype=np.int64)
    rows, feats = [], []
    for position in range(width):
        # Rows still that long; lengths are sorted longest first.
        active = int(np.searchsorted(-sorted_lengths, -position, side="left"))
        live = state[:active] = nextmove[rowbase[state[:active]] + grid[:active, position]]
        emitted = output[live]
        hit = np.flatnonzero(emitted >= 0)
        rows.append(hit)
        feats.append(emitted[hit])
    row_ids = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    feat_ids = np.concatenate(feats) if feats else np.zeros(0, np.int64)
    counts = csr_matrix((np.ones(len(row_ids), np.float32), (row_ids, feat_ids)),
                        shape=(len(encoded), ptc.shape[0]))
    counts.sum_duplicates()
    counts.data = np.log1p(counts.data)
    scores = counts @ ptc + pc
    best = np.asarray(scores.argmax(axis=1)).ravel()
    answer = [""] * len(texts)
    for row, i in enumerate(order):
        answer[i] = classes[best[row]] if counts.indptr[row + 1] > counts.indptr[row] else ""
    return answer


def _looks_english(text: str) -> bool:
    return text.isascii() and len(_ENGLISH.intersection(text.lower().split())) >= _ENOUGH


def detect_languages(texts: list[str]) -> list[str]:
    answer = [""] * len(texts)
    ask = []
    for i, text in enumerate(texts):
        if len(text.strip()) < 3:
            continue
        if _looks_english(text):
            answer[i] = "en"
        else:
            ask.append(i)
    if ask:
        for i, lang in zip(ask, _identify([texts[i] for i in ask]), strict=True):
            answer[i] = lang
    return answer


def detect_language(text: str) -> str:
    return detect_languages([text])[0]
