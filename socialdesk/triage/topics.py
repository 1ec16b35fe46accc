"""Brand topics: the subjects a brand tracks (billing, delivery, a product line).

A post is about a topic when it contains one of the topic's keywords (whole
words or phrases, in any case) or reads like one of its example posts. Both
run over a whole batch at once. Nothing here touches the database, so the
desk, `socialdesk triage --topics FILE` and the helper processes of
triage/spread.py find the same topics.

Topics are written as YAML (`socialdesk topics import FILE`):

    topics:
      - slug: delivery
        name: Delivery
        keywords: [parcel, courier, tracking number]
        examples: ["where is my parcel", "my order still hasn't arrived"]
"""

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np
import yaml
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

# A post matches an example at this cosine similarity or above: roughly, half of
# what the post says is said by the example. The demo's "@brightkettle still
# waiting on my refund for order BK-109048, email me at …" scores 0.52 against
# "still waiting on my refund"; much lower, a post sharing only a few common
# words ("is my", "the app") with an example would match.
DEFAULT_THRESHOLD = 0.5
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
FIELDS = ("slug", "name", "keywords", "examples", "active")
# The same tokens as HashingVectorizer's default pattern, (?u)\b\w\w+\b, found
# faster: the bound in `_ExampleIndex` must see exactly the words it sees.
_TOKEN = re.compile(r"\w\w+")
_SHOWN_EXAMPLE = 60

Embed = Callable[[list[str]], np.ndarray]


class TopicError(ValueError):
    pass


@dataclass(frozen=True)
class TopicSpec:
    slug: str
    name: str
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    active: bool = True

    def __post_init__(self):
        # Lists are welcome; stored as tuples so that a spec is hashable (a
        # helper process caches its matcher by the specs it was sent).
        object.__setattr__(self, "keywords", tuple(self.keywords))
        object.__setattr__(self, "examples", tuple(self.examples))


def check_topic(slug: object, name: object, keywords: object, examples: object) -> list[str]:
    """What is wrong with a topic, in plain words (empty when nothing is). Shared by the
    YAML import and the admin form, so both refuse the same topics."""
    problems = []
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        problems.append(f"slug {slug!r} must be 1 to 64 lower-case letters, digits, - or _, "
                        "starting with a letter or digit (such as billing or coffee-machines)")
    if not isinstance(name, str) or not name.strip():
        problems.append("name must be non-empty text")
    elif len(name) > 120:
        problems.append("name must be at most 120 characters")
    for field, values in (("keywords", keywords), ("examples", examples)):
        if not isinstance(values, list | tuple):
            problems.append(f"{field} must be a list")
            continue
        for i, value in enumerate(values):
            problems.extend(f"{field}[{i}] {problem}" for problem in _check_line(field, value))
    if not problems and not keywords and not examples:
        problems.append("needs at least one keyword or example")
    return problems


def _check_line(field: str, value: object) -> list[str]:
    if not isinstance(value, str):
        return [f"must be text, not {value!r} (put it in quotes)"]
    if field == "keywords":
        if not re.search(r"\w", value):
            return [f"{value!r} has no letter or digit"]
        if "*" in value:
            return [f"{value!r}: wildcards are not supported; list each form "
                    "(refund, refunds, refunded)"]
        if len(value) > 200:
            return ["must be at most 200 characters"]
    elif not _TOKEN.search(value.lower()):
        return [f"{value!r} has no word of two letters or more to compare posts with"]
    return []


def _text(value: str) -> str:
    """One line, single spaces: keywords and examples are stored one per line."""
    return " ".join(value.split())


def spec_from(slug: str, name: str, keywords: Iterable[str], examples: Iterable[str],
              active: bool = True) -> TopicSpec:
    """A spec with its keywords and examples cleaned: one line each, no blanks, no repeats."""
    return TopicSpec(slug, name.strip(), _unique(keywords), _unique(examples), active)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        text = _text(value)
        if text and text.lower() not in seen:
            seen[text.lower()] = text
    return tuple(seen.values())


def parse_topics(source: str) -> list[TopicSpec]:
    """Check topics written as YAML; TopicError names the place of the first problem."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as e:
        raise TopicError(f"not valid YAML: {e}") from None
    if not isinstance(data, dict) or "topics" not in data:
        raise TopicError("expected a mapping with a 'topics' list "
                         "(topics: [{slug, name, keywords, examples}])")
    extra = sorted(set(data) - {"topics"}, key=str)
    if extra:
        raise TopicError(f"unknown field {extra[0]!r} (the file holds only 'topics')")
    items = data["topics"]
    if items is None:
        items = []
    if not isinstance(items, list):
        raise TopicError("topics: must be a list of topics")
    specs: list[TopicSpec] = []
    places: dict[str, str] = {}
    for i, item in enumerate(items):
        place = f"topics[{i}]"
        if not isinstance(item, dict):
            raise TopicError(f"{place}: must be a mapping with slug, name, keywords, examples")
        if isinstance(item.get("slug"), str):
            place += f" ({item['slug']})"
        unknown = sorted(set(item) - set(FIELDS), key=str)
        if unknown:
            raise TopicError(f"{place}: unknown field {unknown[0]!r} "
                             f"(known: {', '.join(FIELDS)})")
        keywords = item.get("keywords") or []
        examples = item.get("examples") or []
        problems = check_topic(item.get("slug"), item.get("name"), keywords, examples)
        if problems:
            raise TopicError(f"{place}: {problems[0]}")
        active = item.get("active", True)
        if not isinstance(active, bool):
            raise TopicError(f"{place}: active must be true or false, not {active!r}")
        slug = item["slug"]
        if slug in places:
            raise TopicError(f"{place}: slug {slug!r} is already used by {places[slug]}; "
                             "slugs must be unique")
        places[slug] = f"topics[{i}]"
        specs.append(spec_from(slug, item["name"], keywords, examples, active))
    return specs


def dump_topics(specs: Iterable[TopicSpec]) -> str:
    """The YAML `parse_topics` reads back to the same specs."""
    items = []
    for spec in specs:
        item: dict = {"slug": spec.slug, "name": spec.name, "keywords": list(spec.keywords),
                      "examples": list(spec.examples)}
        if not spec.active:
            item["active"] = False
        items.append(item)
    return yaml.safe_dump({"topics": items}, sort_keys=False, allow_unicode=True, width=100)


class TopicMatcher:
    """Finds the brand's topics in a batch of texts.

    `match(texts)` gives, for each text, `[{"topic": slug, "by": why}]` in the
    order of the specs. Inactive specs are left out. `embed`, when given,
    replaces the hashed word counts of the examples and posts by dense unit
    vectors (a sentence-embedding model): a callable from a list of texts to
    an array with one row per text. Its similarities run on another scale, so
    it usually wants its own `threshold`. A matcher is pickled as its specs and
    rebuilt (once) in the helper process that receives it, so `embed` must be
    picklable: a module-level function or an object, not a lambda.
    """

    def __init__(self, specs: Iterable[TopicSpec], threshold: float = DEFAULT_THRESHOLD,
                 embed: Embed | None = None):
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be above 0 and at most 1, not {threshold!r}")
        self.specs = tuple(specs)
        self.threshold = threshold
        self.embed = embed
        active = [s for s in self.specs if s.active]
        self.slugs = [s.slug for s in active]
        self._keywords = _KeywordIndex(active)
        examples = [(t, e) for t, spec in enumerate(active) for e in spec.examples]
        self._examples = (_ExampleIndex(examples, threshold, embed) if examples else None)

    def __reduce__(self):
        return _matcher, (self.specs, self.threshold, self.embed)

    def __repr__(self) -> str:
        return f"TopicMatcher({', '.join(self.slugs)}; threshold {self.threshold})"

    def match(self, texts: Sequence[str]) -> list[list[dict]]:
        lowered = [text.lower() for text in texts]
        tokens = ([_TOKEN.findall(text) for text in lowered]
                  if self._examples and not self._examples.embed else None)
        by_keyword = self._keywords.find(lowered, tokens)
        by_example = self._examples.find(texts, tokens) if self._examples else {}
        found: list[list[dict]] = [[] for _ in texts]
        for i in by_keyword.keys() | by_example.keys():
            words, like = by_keyword.get(i, {}), by_example.get(i, {})
            for topic in sorted(words.keys() | like.keys()):
                reasons = []
                if topic in words:
                    shown = words[topic][:3]
                    reasons.append(("keyword " if len(shown) == 1 else "keywords ")
                                   + ", ".join(repr(w) for w in shown))
                if topic in like:
                    example, score = like[topic]
                    reasons.append(f"like example {_shorten(example)!r} ({score:.2f})")
                found[i].append({"topic": self.slugs[topic], "by": "; ".join(reasons)})
        return found


@functools.lru_cache(maxsize=8)
def _matcher(specs: tuple[TopicSpec, ...], threshold: float, embed: Embed | None) -> TopicMatcher:
    return TopicMatcher(specs, threshold, embed)


def _shorten(text: str) -> str:
    return text if len(text) <= _SHOWN_EXAMPLE else text[:_SHOWN_EXAMPLE - 1].rstrip() + "…"


class _KeywordIndex:
    """Every keyword of every topic in one compiled pattern.

    The pattern is a trie (keywords sharing a beginning share its branch) and
    looks ahead from each word start, so overlapping keywords are all found
    ("coffee machine" and "machine broken" in "coffee machine broken"). At one
    start it finds the longest keyword; the shorter ones it contains from that
    start ("coffee" in "coffee machine") are credited with it.
    """

    def __init__(self, specs: list[TopicSpec]):
        # lower-case keyword → [(topic, keyword as written)]
        owners: dict[str, list[tuple[int, str]]] = {}
        for topic, spec in enumerate(specs):
            for keyword in spec.keywords:
                key = _text(keyword).lower()
                if key and all(t != topic for t, _ in owners.get(key, ())):
                    owners.setdefault(key, []).append((topic, _text(keyword)))
        self.credits = {key: [owner for prefix in owners if _starts_with_words(key, prefix)
                              for owner in owners[prefix]] for key in owners}
        self.pattern = (re.compile(r"(?<!\w)(?=(" + _trie(owners) + r")(?!\w))")
                        if owners else None)
        # A keyword is only found in a text holding its longest word: texts with none
        # of these words are not scanned. Keywords of short words only (such as "a&e")
        # leave no such word, and then every text is scanned.
        gates = [max(_TOKEN.findall(key), key=len, default="") for key in owners]
        self.gate = frozenset(gates) if all(gates) else None

    def find(self, lowered: list[str], tokens: list[list[str]] | None
             ) -> dict[int, dict[int, list[str]]]:
        """{text index: {topic: [keywords in the order found]}} for the texts with any."""
        if self.pattern is None:
            return {}
        if tokens is not None and self.gate is not None:
            gate = self.gate
            scan = [i for i, words in enumerate(tokens) if not gate.isdisjoint(words)]
        else:
            scan = range(len(lowered))
        found: dict[int, dict[int, list[str]]] = {}
        findall, credits = self.pattern.findall, self.credits
        for i in scan:
            keys = findall(lowered[i])
            if not keys:
                continue
            topics: dict[int, list[str]] = {}
            for key in keys:
                for topic, keyword in credits[" ".join(key.split())]:
                    shown = topics.setdefault(topic, [])
                    if keyword not in shown:
                        shown.append(keyword)
            found[i] = topics
        return found


def _starts_with_words(key: str, prefix: str) -> bool:
    """Whether `prefix` is found wherever `key` is, from the same start: it is `key`, or
    a beginning of it that no letter or digit follows ("coffee" of "coffee machine")."""
    if not key.startswith(prefix):
        return False
    rest = key[len(prefix):]
    return not rest or not (rest[0].isalnum() or rest[0] == "_")


def _trie(words: Iterable[str]) -> str:
    root: dict = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict) -> str:
        ends = "" in node
        options = [(r"\s+" if char == " " else re.escape(char)) + branch(node[char])
                   for char in sorted(node) if char]
        if not options:
            return ""
        body = options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"
        if ends:  # a keyword ends here and longer ones go on: try the longer first
            return ("(?:" + body + ")?") if len(options) == 1 else body + "?"
        return body

    return branch(root)


class _ExampleIndex:
    """The example posts, vectorised once; posts are compared with all of them at once.

    Posts and examples are hashed counts of words and word pairs, l2-normalised,
    so one sparse product gives every cosine similarity. Vectorising every post
    would cost more than the rest of matching together, so a cheap upper bound
    comes first and only the posts that could reach the threshold are
    vectorised. The bound: the words and pairs a post shares with the examples,
    counted for the whole batch into one sparse matrix, give its dot product
    with every example exactly (one more sparse product); its length is at
    least sqrt(2m - 1) for m words, since it has m words and m - 1 pairs.
    Hash collisions, rare among 2**20 buckets, are left out of the bound: they
    can move a similarity by a few hundredths.
    """

    def __init__(self, examples: list[tuple[int, str]], threshold: float, embed: Embed | None):
        examples = sorted(examples, key=lambda pair: pair[0])
        self.texts = [text for _, text in examples]
        self.topics, self.starts = np.unique([topic for topic, _ in examples],
                                             return_index=True)
        self.threshold = threshold
        self.embed = embed
        if embed is not None:
            self.vectors = _unit_rows(embed(self.texts))
            return
        self.vectorizer = HashingVectorizer(ngram_range=(1, 2), alternate_sign=False,
                                            norm="l2")
        self.vectors = self.vectorizer.transform(self.texts).T.tocsr()
        # The examples' words and word pairs as rows of one matrix: the words by
        # number, then the pairs in the order of their keys (first * words + second).
        tokens = [_TOKEN.findall(text.lower()) for text in self.texts]
        self.word_ids: dict[str, int] = {}
        for words in tokens:
            for word in words:
                self.word_ids.setdefault(word, len(self.word_ids))
        size = len(self.word_ids)
        grams = [([self.word_ids[w] for w in words],
                  [self.word_ids[a] * size + self.word_ids[b]
                   for a, b in zip(words, words[1:], strict=False)]) for words in tokens]
        self.pair_keys = np.unique(np.array([k for _, keys in grams for k in keys],
                                            dtype=np.int64))
        self.width = size + len(self.pair_keys)
        rows, columns = [], []
        for column, (word_rows, keys) in enumerate(grams):
            pair_rows = size + np.searchsorted(self.pair_keys, np.array(keys, dtype=np.int64))
            rows.extend([*word_rows, *pair_rows.tolist()])
            columns.extend([column] * (len(word_rows) + len(keys)))
        counts = sparse.csc_matrix((np.ones(len(rows)), (rows, columns)),
                                   shape=(self.width, len(self.texts)))
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=0))).ravel()
        self.weights = (counts @ sparse.diags(1 / np.where(norms == 0, 1, norms))).tocsr()

    def find(self, texts: Sequence[str], tokens: list[list[str]] | None
             ) -> dict[int, dict[int, tuple[str, float]]]:
        """{text index: {topic: (closest example, similarity)}} for the texts with any."""
        if self.embed is not None:
            candidates = np.arange(len(texts))
            if not len(candidates):
                return {}
            similarity = _unit_rows(self.embed(list(texts))) @ self.vectors.T
        else:
            candidates = self._candidates(tokens)
            if not len(candidates):
                return {}
            posts = self.vectorizer.transform([texts[i] for i in candidates])
            similarity = (posts @ self.vectors).toarray()
        found: dict[int, dict[int, tuple[str, float]]] = {}
        ends = [*self.starts[1:], len(self.texts)]
        for topic, start, end in zip(self.topics, self.starts, ends, strict=True):
            block = similarity[:, start:end]
            best = block.argmax(axis=1)
            scores = block[np.arange(len(candidates)), best]
            for row in np.flatnonzero(scores >= self.threshold):
                found.setdefault(int(candidates[row]), {})[int(topic)] = (
                    self.texts[start + best[row]], float(scores[row]))
        return found

    def _candidates(self, tokens: list[list[str]]) -> np.ndarray:
        """The texts whose bound reaches the threshold for some example."""
        count = len(tokens)
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=count)
        flat = list(chain.from_iterable(tokens))
        ids = np.fromiter(map(self.word_ids.get, flat, repeat(-1)), dtype=np.int64,
                          count=len(flat))
        doc = np.repeat(np.arange(count), lengths)
        known = ids >= 0
        rows, columns = [doc[known]], [ids[known]]
        if len(self.pair_keys):
            at = np.flatnonzero(known[:-1] & known[1:] & (doc[:-1] == doc[1:]))
            keys = ids[at] * len(self.word_ids) + ids[at + 1]
            slot = np.minimum(np.searchsorted(self.pair_keys, keys), len(self.pair_keys) - 1)
            hit = self.pair_keys[slot] == keys
            rows.append(doc[at[hit]])
            columns.append(len(self.word_ids) + slot[hit])
        rows_, columns_ = np.concatenate(rows), np.concatenate(columns)
        shared = sparse.csr_matrix((np.ones(len(rows_)), (rows_, columns_)),
                                   shape=(count, self.width))
        dots = (shared @ self.weights).toarray()
        least = np.sqrt(np.maximum(2 * lengths - 1, 1))
        # A hair below the threshold: rounding must never drop a post that reaches it.
        return np.flatnonzero(dots.max(axis=1, initial=0) >= (self.threshold - 1e-9) * least)


def _unit_rows(vectors) -> np.ndarray:
    rows = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1, norms)
