"""Word rules behind a prefilter: many patterns over many posts, cheaply.

A rule is an alternation of patterns matched as whole words, case ignored, and
its evidence is what matched. Most posts match none of a desk's rules, so the
patterns are read once, when the rules are built, for the words and fixed
stretches of text every match must contain; a post is then searched only with
the alternatives whose words it has. Leaving out alternatives that cannot
match anywhere in a text changes no match, so the answer is always the one the
full patterns give.
"""

import os
import re


def whole_words(*patterns: str) -> re.Pattern:
    """The patterns as one, matched as whole words with case ignored."""
    return re.compile(r"(?<![\w])(?:" + "|".join(patterns) + r")(?![\w])", re.IGNORECASE)


# Stands for text a pattern does not pin down (a class, a repeat): it may be
# empty and may join or split words, so no word next to it is relied on.
_OPEN = "\x00"
# A pattern that would expand to more forms than this keeps what its forms so
# far share at either end, and leaves the middle open.
_MAX_FORMS = 1024


def _collapse(forms: set[str]) -> str:
    shortest = min(len(form) for form in forms)
    head = os.path.commonprefix(list(forms))[:shortest]
    tail = os.path.commonprefix([form[::-1] for form in forms])[::-1]
    keep = min(len(tail), shortest - len(head))
    return head + _OPEN + tail[len(tail) - keep:]


def _cased_beyond_ascii(char: str) -> bool:
    # Such letters can have case partners that lower() does not give, and the
    # prefilter compares lowercased text: leave them open.
    return not char.isascii() and char.lower() != char.upper()


class _Expander:
    """The literal forms of a pattern, with `_OPEN` where a form is not fixed.

    Reads the small part of the regular expression syntax the rules use. What
    it does not pin down it leaves open, which only makes the prefilter let
    more posts through, never fewer; look-arounds are dropped for the same
    reason (they only narrow a match).
    """

    def __init__(self, pattern: str):
        self.pattern, self.at = pattern, 0

    def forms(self) -> set[str]:
        forms = self._alternation()
        if self.at != len(self.pattern):
            raise ValueError(f"unbalanced parenthesis in {self.pattern!r}")
        return {re.sub(_OPEN + "+", _OPEN, form) for form in forms}

    def _peek(self, n: int = 1) -> str:
        return self.pattern[self.at:self.at + n]

    def _alternation(self) -> set[str]:
        forms = self._sequence()
        while self._peek() == "|":
            self.at += 1
            forms |= self._sequence()
        return forms

    def _sequence(self) -> set[str]:
        forms = {""}
        while self.at < len(self.pattern) and self._peek() not in ("|", ")"):
            atom = self._quantified(self._atom())
            if len(forms) * len(atom) > _MAX_FORMS:
                forms = {_collapse(forms)}
                if len(atom) > _MAX_FORMS:
                    atom = {_collapse(atom)}
            forms = {head + tail for head in forms for tail in atom}
        return forms

    def _atom(self) -> set[str]:
        char = self._peek()
        self.at += 1
        if char == "(":
            return self._group()
        if char == "[":
            return self._class()
        if char == "\\":
            escaped = self._peek()
            self.at += 1
            if escaped in ("b", "B", "A", "Z"):
                return {""}
            if escaped in ("d", "D", "w", "W", "s", "S"):
                return {_OPEN}
            if escaped.isalnum() or not escaped:
                raise ValueError(f"unsupported escape \\{escaped} in {self.pattern!r}")
            return {escaped}
        if char == ".":
            return {_OPEN}
        if char in ("^", "$"):
            return {""}
        if _cased_beyond_ascii(char):
            return {_OPEN}
        return {char.lower()}

    def _group(self) -> set[str]:
        if self._peek(2) == "?:":
            self.at += 2
        elif self._peek(2) in ("?=", "?!") or self._peek(3) in ("?<=", "?<!"):
            self._skip_group()
            return {""}
        elif self._peek(3) == "?P<":
            self.at = self.pattern.index(">", self.at) + 1
        elif flags := re.match(r"\?[aimsu-]+:", self.pattern[self.at:]):
            # Scoped flags such as (?-i:...): matching with case only narrows.
            # (Verbose mode, x, would make spaces mean nothing: refused below.)
            self.at += flags.end()
        elif self._peek() == "?":
            raise ValueError(f"unsupported group in {self.pattern!r}")
        forms = self._alternation()
        if self._peek() != ")":
            raise ValueError(f"unbalanced parenthesis in {self.pattern!r}")
        self.at += 1
        return forms

    def _skip_group(self) -> None:
        depth = 1
        while depth:
            char = self._peek()
            if not char:
                raise ValueError(f"unbalanced parenthesis in {self.pattern!r}")
            self.at += 1
            if char == "\\":
                self.at += 1
            elif char == "[":
                self._class()
            elif char in ("(", ")"):
                depth += 1 if char == "(" else -1

    def _class(self) -> set[str]:
        start = self.at
        if self._peek() == "^":
            self.at += 1
        if self._peek() == "]":
            self.at += 1
        while self._peek() != "]":
            if not self._peek():
                raise ValueError(f"unterminated class in {self.pattern!r}")
            self.at += 2 if self._peek() == "\\" else 1
        body = self.pattern[start:self.at]
        self.at += 1
        plain = body and body[0] != "^" and "\\" not in body and "-" not in body[1:-1]
        if not plain or len(body) > 8 or any(_cased_beyond_ascii(c) for c in body):
            return {_OPEN}
        return {c.lower() for c in body}

    def _quantified(self, atom: set[str]) -> set[str]:
        char = self._peek()
        if char == "?":
            self.at += 1
            atom = atom | {""}
        elif char in ("*", "+"):
            self.at += 1
            atom = {form + _OPEN for form in atom} if char == "+" else {_OPEN}
        elif char == "{" and re.match(r"\{\d*(?:,\d*)?\}", self.pattern[self.at:]):
            end = self.pattern.index("}", self.at)
            least, comma, most = self.pattern[self.at + 1:end].partition(",")
            self.at = end + 1
            least = int(least or 0)
            most = int(most) if most else (None if comma else least)
            if least == 0:
                atom = atom | {""} if most == 1 else {_OPEN}
            elif least == most and len(atom) == 1:
                atom = {form * least for form in atom}
            else:
                atom = {form + _OPEN for form in atom}
        else:
            return atom
        if self._peek() in ("?", "+"):  # lazy or possessive: the same forms
            self.at += 1
        return atom


_ASCII_WORD = re.compile(r"[a-z0-9_]+")


def _requirement(form: str) -> tuple[frozenset[bytes], tuple[bytes, ...]]:
    """What a post must contain to hold this form: whole words, and fixed stretches.

    The prefilter's words are runs of ASCII letters, digits and underscores. A
    run in the form is one of the post's words when nothing open touches it:
    the pattern's edges are word boundaries (`whole_words`), and any fixed
    character outside those runs separates words. Everything is UTF-8,
    compared as bytes.
    """
    words = [run.group() for run in _ASCII_WORD.finditer(form)
             if _OPEN not in form[max(run.start() - 1, 0):run.end() + 1]]
    # A stretch that is just one of the whole words adds nothing to check.
    pieces = [piece for piece in form.split(_OPEN) if piece and piece not in words]
    return (frozenset(word.encode() for word in words),
            tuple(piece.encode("utf-8", "surrogatepass") for piece in pieces))


# Words too common to look a form up by: a form is filed under its longest
# word that is not one of these, so that few posts reach its check.
_COMMON = frozenset(w.encode() for w in """
    a an the to of in on at for from with by and or but if as is are was were be been being
    am i m me my mine you your we our us they them their he him his she her it its this that
    these those do does did done have has had will would can could should not no so just
    get got getting go going went gone make made making really very all up out about what
    when how why there here one some any like now time know want new s t ll re ve d
    back day way good great first last never still again off over down more most much
    see saw seen take took taking call called calling come came coming say said tell told
    talk talking speak write writing wrote send sent report reported reporting contact
    contacted complain email tag tagged ring look looking find finding try trying think
    thinking give gave need needs help work working use using another different other
    next today people thing things something anything nothing hand face head eye eyes
    """.split())


def _rarity(word: bytes) -> tuple[bool, int]:
    return word not in _COMMON, len(word)


# İ, ı, ſ and the Kelvin sign match ASCII letters when case is ignored, but
# lower() does not turn them into those letters; fold them first.
ODD_CASE = "\u0130\u0131\u017f\u212a"
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
# Bytes that separate words: all but ASCII letters, digits and underscore.
_GAPS = bytes(b if chr(b).isascii() and (chr(b).isalnum() or b == ord("_")) else 32
              for b in range(256))


def folded(text: str) -> str:
    """The text lowercased so that it contains what case-insensitive matching finds."""
    if not text.isascii() and any(char in text for char in ODD_CASE):
        text = text.translate(_FOLD)
    return text.lower()


# The engine asks about one post three times in a row (risk cues, categories,
# strong complaint words); the last post's words serve all three.
_last_lowered: tuple[str | None, tuple[bytes, set[bytes]]] = (None, (b"", set()))


def _lowered(text: str) -> tuple[bytes, set[bytes]]:
    """The text lowercased as UTF-8, and its set of words."""
    global _last_lowered
    last = _last_lowered
    if last[0] is text:
        return last[1]
    if text.isascii():
        low = text.encode().lower()
    else:
        low = folded(text).encode("utf-8", "surrogatepass")
    lowered = low, set(low.translate(_GAPS).split())
    _last_lowered = text, lowered
    return lowered


class WordRules:
    """Named rules, each an alternation of word patterns, behind one shared prefilter.

    `matches(text)` gives what running every full pattern would give: leaving
    out alternatives that cannot match anywhere in a text changes no match.
    """

    def __init__(self, rules: dict[str, tuple[str, ...]]):
        self.rules = rules
        self.patterns = {name: whole_words(*alternatives) for name, alternatives in rules.items()}
        # A check is ((rule number, alternative number), words needed, stretches needed).
        self._by_word: dict[bytes, list[tuple[tuple[int, int], frozenset, tuple]]] = {}
        # Forms with no whole word are checked by their stretches alone; those
        # with a stretch beyond ASCII (an emoji) only on texts beyond ASCII.
        self._by_ascii_piece: list[tuple[tuple[int, int], tuple[bytes, ...]]] = []
        self._by_piece: list[tuple[tuple[int, int], tuple[bytes, ...]]] = []
        # Alternatives with a form that pins nothing down are always tried.
        self._always: set[tuple[int, int]] = set()
        for rule, alternatives in enumerate(rules.values()):
            for index, alternative in enumerate(alternatives):
                self._add((rule, index), alternative)
        self._words = frozenset(self._by_word)
        self._cache: dict[frozenset, dict[str, re.Pattern]] = {}

    def _add(self, key: tuple[int, int], alternative: str) -> None:
        needs = {_requirement(form) for form in _Expander(alternative).forms()}
        if any(not words and not pieces for words, pieces in needs):
            self._always.add(key)
            return
        # Forms are looked up by their rarest word (see _COMMON), and the forms
        # under one word share one check, of what they all need: a pattern
        # with many forms ("cut|hurt|burnt" × "my|his" × body parts) stays a
        # few checks.
        grouped: dict[bytes, list[tuple[frozenset[bytes], tuple[bytes, ...]]]] = {}
        for words, pieces in sorted(needs, key=repr):
            if words:
                grouped.setdefault(max(sorted(words), key=_rarity), []).append((words, pieces))
            else:
                self._by_piece.append((key, pieces))
                if all(piece.isascii() for piece in pieces):
                    self._by_ascii_piece.append((key, pieces))
        for word, group in grouped.items():
            needed = frozenset.intersection(*(words for words, _ in group))
            pieces = tuple(piece for piece in group[0][1]
                           if all(any(piece in other for other in others) for _, others in group))
            self._by_word.setdefault(word, []).append((key, needed, pieces))

    def _narrowed(self, text: str) -> dict[str, re.Pattern]:
        """For each rule that could match the text, the pattern of what could match."""
        low, words = _lowered(text)
        found = set(self._always)
        for word in words & self._words:
            for key, needed, pieces in self._by_word[word]:
                if key in found or not needed <= words:
                    continue
                for piece in pieces:
                    if piece not in low:
                        break
                else:
                    found.add(key)
        for key, pieces in self._by_ascii_piece if low.isascii() else self._by_piece:
            for piece in pieces:
                if piece not in low:
                    break
            else:
                found.add(key)
        if not found:
            return {}
        found = frozenset(found)
        narrowed = self._cache.get(found)
        if narrowed is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            narrowed = self._cache[found] = self._compile(found)
        return narrowed

    def _compile(self, found: frozenset[tuple[int, int]]) -> dict[str, re.Pattern]:
        narrowed = {}
        for rule, (name, alternatives) in enumerate(self.rules.items()):
            kept = tuple(a for index, a in enumerate(alternatives) if (rule, index) in found)
            if kept:
                narrowed[name] = (self.patterns[name] if len(kept) == len(alternatives)
                                  else whole_words(*kept))
        return narrowed

    def matches(self, text: str) -> dict[str, tuple[str, ...]]:
        """Rule name → the matched words, lowercased, first occurrence first, no repeats."""
        found = {}
        for name, pattern in self._narrowed(text).items():
            evidence = tuple(dict.fromkeys(m.group().lower() for m in pattern.finditer(text)))
            if evidence:
                found[name] = evidence
        return found


class WordPattern:
    """One rule with the prefilter, searched like a compiled pattern."""

    def __init__(self, *patterns: str):
        self.alternatives = patterns
        self._rules = WordRules({"": patterns})
        self.regex = self._rules.patterns[""]

    def search(self, text: str) -> re.Match | None:
        pattern = self._rules._narrowed(text).get("")
        return pattern.search(text) if pattern else None
