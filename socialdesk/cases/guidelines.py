"""Guideline checks on a reply before it goes out.

A public reply is read by everyone who follows the thread, not just the
customer, so the desk holds drafts to the brand's care guidelines:

- acknowledge the customer in public: a complaint answered without a word of
  sympathy or understanding reads as indifference to everyone watching;
- resolve offline: card numbers, bank details, national identifiers, phone
  numbers, e-mail addresses and order numbers belong in a private message,
  never in a public reply (the brand's own helpline and addresses excepted);
- admit no culpability before the facts are established: where someone may
  have been hurt, or a lawyer may be reading, sympathy is right but "it was our
  fault" can become evidence;
- stay within the channel's length and link only to the brand's own sites.

Each check is a pure function of the draft; `check_draft` runs them all. A
blocking finding stops the reply; the others are warnings the agent confirms.
"""

import re
from dataclasses import dataclass

from socialdesk.triage import cues
from socialdesk.triage.wordrules import whole_words

CULPABILITY = "culpability"
PERSONAL_DATA = "personal_data"
NO_ACKNOWLEDGEMENT = "no_acknowledgement"
TOO_LONG = "too_long"
LINK_NOT_ALLOWED = "link_not_allowed"
EMPTY = "empty"


@dataclass(frozen=True)
class Finding:
    check: str
    blocking: bool  # True: the reply cannot go out; False: a warning the agent must confirm
    message: str
    evidence: str = ""


@dataclass(frozen=True)
class Draft:
    text: str
    visibility: str  # "public" | "private"
    channel: str
    category: str
    cues: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()  # empty: links are not checked
    # The brand's own phone numbers and e-mail addresses (a helpline, the care
    # address), which a public reply may give out.
    own_contacts: frozenset[str] = frozenset()
    limit: int | None = None  # the channel's limit for this visibility; None: no limit


# Curly apostrophes from phones and word processors would hide "it’s" and
# "wasn’t" from the patterns; each maps to one character, so spans still
# point into the original text.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'"})


def _words(pattern: str) -> str:
    # Patterns are written with single spaces; drafts have line breaks and doubled spaces.
    return pattern.replace(" ", r"\s+")


# --------------------------------------------------------------------------
# Culpability
# --------------------------------------------------------------------------

# Cues and categories where a lawyer, an insurer or a regulator may read the reply.
_CULPABILITY_CUES = ("safety", "legal")
_CULPABILITY_CATEGORIES = ("crisis",)

_WE_ARE = r"(?:we're|we are|we were|we have been|we've been|i'm|i am|i was)"
# Only words that strengthen: anything looser would let "we are not liable" through as
# "we are <word> liable".
_QUITE = (r"(?:(?:fully|entirely|completely|totally|wholly|solely|partly|partially|legally|"
          r"clearly|obviously|definitely|absolutely|directly|ultimately|really|very|so) )?")
_HARM = (r"(?:injur(?:y|ies)|burns?|scalds?|accident|harm|damage|incident|illness|reaction|"
         r"fire|hurt|pain|loss|losses|cuts?|fall|poisoning)")
_WHOSE = r"(?:your|the|this|that|his|her|their|any|all|these|those)"

_ADMISSIONS = tuple(_words(p) for p in (
    r"(?:our|my) (?:own )?(?:fault|mistake|error|negligence)",
    r"(?:fault|mistake|error|negligence|failure) on our (?:part|side|end)",
    r"the fault (?:is|was|lies|lay) (?:entirely |all |completely )?(?:ours|with us)",
    rf"{_WE_ARE} {_QUITE}(?:at fault|to blame|liable|negligent)",
    rf"{_WE_ARE} {_QUITE}responsible for (?:{_WHOSE} (?:\w+ ){{0,2}}?{_HARM}|what happened)",
    rf"(?:we|i)(?: have|'ve)? (?:fully |openly )?(?:accept|accepted|take|took) {_QUITE}"
    r"(?:full |all |complete |total |sole |the )?(?:liability|responsibility|blame)",
    r"(?:we|i)(?: must| have to|'ll| will| do| freely| openly| readily| have|'ve)? "
    r"admit(?:ted)?",
    r"(?:we|i) (?:acted|behaved) negligently",
    r"(?:we|i)(?: have|'ve)? (?:made|make) (?:a|an) (?:big |serious |terrible |huge )?"
    r"(?:mistake|error)",
    r"(?:we|i) (?:really )?(?:messed|screwed) up",
    r"(?:we|i) (?:got|get) (?:it|this|that) wrong",
    r"(?:we|i) dropped the ball",
    rf"(?:we|our (?:\w+ ){{0,2}}?)(?:caused|was the cause of) {_WHOSE} (?:\w+ ){{0,2}}?{_HARM}",
))
_ADMISSION = whole_words(*_ADMISSIONS)

# Where the sentence part that governs an admission begins. "or" and "nor"
# carry a negation on ("neither fair nor our fault"), so "or" is no boundary
# and the part before "nor" stays with it.
_CLAUSE_START = re.compile(
    r"[.!?;:,()\[\]\n\u2013\u2014]| - |\b(?:and|but|so|yet|because|although|though|while|"
    r"whereas|however)\b|(?=\bnor\b)",
    re.IGNORECASE,
)
# Each of these turns the meaning over, so an odd number of them before
# "our fault" denies it ("it wasn't our fault", "we deny it was our fault") and
# an even number asserts it ("we can't deny it was our fault", "there's no
# doubt it was our fault").
_NEGATION = re.compile(
    r"\b(?:not|no|never|nothing|neither|nor|none|nobody|cannot|\w+n't|"
    r"(?:is|was|are|were|do|does|did|has|have|had|could|would|should|must)nt|dont|cant|wont|"
    r"den(?:y|ies|ied|ying)|disput(?:e|es|ed|ing)|reject(?:s|ed|ing)?|refut(?:e|es|ed|ing)|"
    r"doubt(?:s|ed|ing)?)\b",
    re.IGNORECASE,
)
# "We're looking into whether it was our fault" asks; it does not admit.
_OPEN_QUESTION = re.compile(r"\b(?:if|whether)\b", re.IGNORECASE)
_LOOK_BACK = 200  # characters: far more than any clause before an admission


def _is_asserted(text: str, start: int) -> bool:
    before = text[max(0, start - _LOOK_BACK):start]
    clause = before
    for boundary in _CLAUSE_START.finditer(before):
        clause = before[boundary.end():]
    if _OPEN_QUESTION.search(clause):
        return False
    return len(_NEGATION.findall(clause)) % 2 == 0


def admissions(text: str) -> list[str]:
    """The phrases in the text that admit fault or liability, as written."""
    plain = text.translate(_APOSTROPHES)
    found = [text[m.start():m.end()] for m in _ADMISSION.finditer(plain)
             if _is_asserted(plain, m.start())]
    return list(dict.fromkeys(found))


def _culpability(draft: Draft) -> Finding | None:
    reasons = [cue for cue in _CULPABILITY_CUES if cue in draft.cues]
    if draft.category in _CULPABILITY_CATEGORIES:
        reasons.append(draft.category)
    if not reasons:
        return None
    found = admissions(draft.text)
    if not found:
        return None
    quoted = ", ".join(f'"{phrase}"' for phrase in found)
    return Finding(
        CULPABILITY, True,
        f"The reply admits fault ({quoted}) in a {' and '.join(reasons)} case: express "
        "sympathy without admitting liability until the facts are established.",
        evidence="; ".join(found))


# --------------------------------------------------------------------------
# Personal data
# --------------------------------------------------------------------------

def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _mask_card(number: str) -> str:
    return f"ending {_digits(number)[-4:]}"


def _mask_iban(iban: str) -> str:
    iban = iban.replace(" ", "")
    return f"{iban[:2]}\u2026{iban[-4:]}"


def _mask_phone(phone: str) -> str:
    return f"\u2026{_digits(phone)[-3:]}"


def _mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}\u2026@{domain}"


def _mask_id(identifier: str) -> str:
    return f"\u2026{re.sub(r'[ -]', '', identifier)[-3:]}"


def _mask_order(order: str) -> str:
    return f"\u2026{_digits(order)[-4:]}"


# The triage detectors, in the order `cues.personal_data` reads them: an IBAN's
# digits are not also a card, and a card's are not also a phone number.
_DETECTORS = (
    ("bank account number", cues._IBAN, lambda m: cues._iban_valid(m.group()), _mask_iban),
    ("national identifier", cues._NATIONAL_ID, cues._national_id_valid, _mask_id),
    ("card number", cues._CARD, lambda m: cues._luhn(_digits(m.group())), _mask_card),
    ("e-mail address", cues._EMAIL, None, _mask_email),
    ("phone number", cues._PHONE, None, _mask_phone),
    ("order number", cues._ORDER, None, _mask_order),
)


def personal_data(text: str, own_domains: frozenset[str] = frozenset(),
                  own_contacts: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(kind, masked evidence) for each piece of personal data in the text.

    E-mail addresses at `own_domains`, and the phone numbers and addresses in
    `own_contacts`, are the brand's own (care@brand.com, its helpline), which a
    public reply may give out.
    """
    kinds = cues.personal_data(text)  # cheap, and nothing to find in most replies
    if not kinds:
        return []
    found = []
    for kind, pattern, valid, mask in _DETECTORS:
        if kind not in kinds:
            continue
        for match in pattern.finditer(text):
            value = match.group()
            if valid is not None and not valid(match):
                continue
            if kind == "e-mail address" and (_allowed(value.rpartition("@")[2], own_domains)
                                             or value.lower() in _addresses(own_contacts)):
                continue
            if kind == "phone number" and _own_phone(value, own_contacts):
                continue
            found.append((kind, mask(value)))
            # Blank it out so the same digits are not found again as another kind.
            text = text[:match.start()] + " " * len(value) + text[match.end():]
    return list(dict.fromkeys(found))


def _addresses(contacts: frozenset[str]) -> set[str]:
    return {c.strip().lower() for c in contacts if "@" in c}


def _own_phone(number: str, contacts: frozenset[str]) -> bool:
    """Whether the number is one of the brand's, however it is written: with or
    without the country code ("+44 800 123 4567" is "0800 123 4567")."""
    found = _digits(number).lstrip("0")
    for contact in contacts:
        own = _digits(contact).lstrip("0") if "@" not in contact else ""
        shorter, longer = sorted((own, found), key=len)
        if len(shorter) >= 6 and longer.endswith(shorter) and len(longer) - len(shorter) <= 3:
            return True
    return False


def _personal_data(draft: Draft) -> Finding | None:
    if draft.visibility != "public":
        return None
    found = personal_data(draft.text, _domains(draft.allowed_domains), draft.own_contacts)
    if not found:
        return None
    listed = _and([f"{_article(kind)} {kind} ({masked})" for kind, masked in found])
    return Finding(
        PERSONAL_DATA, True,
        f"The public reply contains {listed}: anyone can read it. Take the details out and "
        "move the conversation to a private message.",
        evidence="; ".join(f"{kind}: {masked}" for kind, masked in found))


# --------------------------------------------------------------------------
# Acknowledgement
# --------------------------------------------------------------------------

# Words that show the customer they were heard. A public complaint is answered
# for everyone who reads the thread, and a reply that goes straight to "DM us"
# reads as a brush-off; any one of these is enough. Matched as whole words, so
# "frustrat" has to spell out its endings.
ACKNOWLEDGEMENTS = (
    r"sorry",
    r"apologi[sz]e[sd]?", r"apologi[sz]ing", r"apolog(?:y|ies)",
    r"understand(?:s|able|ably)?",
    r"hear (?:that|this|about)",
    r"frustrat\w*",
    r"thanks? (?:you )?(?:so much |very much )?for (?:letting us know|raising|flagging|"
    r"reaching out|your patience|bearing with us|telling us)",
    r"we hear you",
    r"not the experience", r"isn't the experience",
    r"not what we want",
)
_ACKNOWLEDGEMENT = whole_words(*(_words(p) for p in ACKNOWLEDGEMENTS))


def _no_acknowledgement(draft: Draft) -> Finding | None:
    if draft.visibility != "public" or draft.category != "complaint":
        return None
    if _ACKNOWLEDGEMENT.search(draft.text.translate(_APOSTROPHES)):
        return None
    return Finding(
        NO_ACKNOWLEDGEMENT, False,
        "The public reply to a complaint does not acknowledge the customer: say sorry, or "
        "that you understand, before moving the conversation on.")


# --------------------------------------------------------------------------
# Length
# --------------------------------------------------------------------------

def _too_long(draft: Draft) -> Finding | None:
    # The desk strips a reply before sending it, so surrounding space does not count.
    length = len(draft.text.strip())
    if draft.limit is None or length <= draft.limit:
        return None
    return Finding(
        TOO_LONG, True,
        f"The reply has {length:,} characters; {draft.channel} allows {draft.limit:,}.",
        evidence=f"{length} > {draft.limit}")


# --------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------

# A link as people paste it: with its scheme, or a bare "www." address.
_LINK = re.compile(r"(?:\bhttps?://|(?<![\w.@/-])www\.)[^\s<>\"'`]*", re.IGNORECASE)
# Sentence punctuation after a link is not part of it: "see example.com/help)."
_TRAILING = ".,;:!?)]}*_>"


def _host(link: str) -> str:
    rest = re.sub(r"^https?:", "", link.rstrip(_TRAILING), flags=re.IGNORECASE).lstrip("/\\")
    authority = re.split(r"[/\\?#]", rest, maxsplit=1)[0]
    # Browsers go to what follows the last "@": "example.com@evil.io" is evil.io.
    host = authority.rpartition("@")[2]
    if host.startswith("["):  # an IPv6 address
        host = host.partition("]")[0] + "]"
    else:
        host = host.partition(":")[0]
    return host.rstrip(".").lower()


def _domains(allowed: frozenset[str]) -> frozenset[str]:
    # The list is typed by people: tolerate "https://Example.com/" and ".example.com".
    return frozenset(filter(None, (_host(entry.strip()).strip(".") for entry in allowed)))


def _allowed(host: str, domains: frozenset[str]) -> bool:
    host = host.rstrip(".").lower()
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def links(text: str) -> list[str]:
    """The host of each link in the text, in order, once each."""
    hosts = (_host(m.group()) for m in _LINK.finditer(text))
    return list(dict.fromkeys(host for host in hosts if host))


def _link_not_allowed(draft: Draft) -> Finding | None:
    if not draft.allowed_domains:
        return None
    domains = _domains(draft.allowed_domains)
    outside = [host for host in links(draft.text) if not _allowed(host, domains)]
    if not outside:
        return None
    which = "which is" if len(outside) == 1 else "which are"
    return Finding(
        LINK_NOT_ALLOWED, True,
        f"The reply links to {_and(outside)}, {which} not on the "
        f"brand's list of allowed sites ({', '.join(sorted(domains))}): link only to those.",
        evidence=", ".join(outside))


# --------------------------------------------------------------------------

def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


_CHECKS = (_culpability, _personal_data, _no_acknowledgement, _too_long, _link_not_allowed)


def check_draft(draft: Draft) -> list[Finding]:
    """Every guideline the draft breaks, in a fixed order; empty when it may go out."""
    if not draft.text.strip():
        return [Finding(EMPTY, True, "The reply is empty: write something before sending.")]
    return [finding for check in _CHECKS if (finding := check(draft)) is not None]
