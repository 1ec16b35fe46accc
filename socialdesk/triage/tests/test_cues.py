"""Risk cues and personal data: what each cue catches, what it must leave alone,
and that the prefilter never changes an answer."""

import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialdesk.triage import cues
from socialdesk.triage.cues import (
    CATEGORY_WORDS,
    RISK_CUES,
    STRONG_COMPLAINT,
    category_matches,
    personal_data,
    risk_cues,
)
from socialdesk.triage.wordrules import ODD_CASE, WordRules, _cased_beyond_ascii, whole_words


def found(text: str) -> dict[str, tuple[str, ...]]:
    return {m.name: m.evidence for m in risk_cues(text)}


# --------------------------------------------------------------------------
# What each cue catches, and the everyday phrases it must leave alone
# --------------------------------------------------------------------------

@pytest.mark.parametrize("text, cue, evidence", [
    ("the kettle burned my hand", "safety", "burned my hand"),
    ("the steam scalded my wrist", "safety", "scalded"),
    ("The handle snapped and the water scalded my son's arm", "safety", "scalded"),
    ("We've spent the evening in A&E", "safety", "a&e"),
    ("the toaster caught fire in my kitchen", "safety", "caught fire"),
    ("if left it could go on fire", "safety", "go on fire"),
    ("had an allergic reaction to the new recipe", "safety", "allergic reaction"),
    ("got food poisoning from your chicken wrap", "safety", "food poisoning"),
    ("your prawns made me sick all night", "safety", "made me sick"),
    ("I think we were poisoned", "safety", "were poisoned"),
    ("my daughter choked on a piece of plastic from the lid", "safety", "choked on"),
    ("slipped on the wet floor in your Leeds store", "safety", "slipped on the wet floor"),
    ("broke my tooth on a stone in your bread", "safety", "broke my tooth"),
    ("cut myself on the broken blade", "safety", "cut myself"),
    ("we had to call an ambulance", "safety", "ambulance"),
    ("the paramedics said it was the battery", "safety", "paramedics"),
    ("got an electric shock from the kettle", "safety", "got an electric shock from"),
    ("sparks came out of the plug", "safety", "sparks came out"),
    ("there's a burning smell from the toaster", "safety", "burning smell"),
    ("the plastic melted onto the hob", "safety", "plastic melted"),
    ("found a piece of glass in my cereal", "safety", "piece of glass"),
    ("my lawyer will hear about this", "legal", "my lawyer"),
    ("I've spoken to my solicitor", "legal", "my solicitor"),
    ("see you in court", "legal", "see you in court"),
    ("I will sue you for this", "legal", "will sue"),
    ("I'll take this to the small claims court", "legal", "small claims court"),
    ("next step is legal action", "legal", "legal action"),
    ("we're taking @brightkettle to court", "legal", "taking @brightkettle to court"),
    ("we're taking Brightkettle to court", "legal", "taking brightkettle to court"),
    ("reporting you to trading standards", "regulator", "trading standards"),
    ("complaint going to Ofcom", "regulator", "ofcom"),
    ("I've complained to the FCA", "regulator", "complained to the fca"),
    ("I'll report this to the CMA", "regulator", "report this to the cma"),
    ("I've told the ICO", "regulator", "told the ico"),
    ("filing an FCC complaint tomorrow", "regulator", "fcc"),
    ("the attorney general should look at this", "regulator", "attorney general"),
    ("this is a GDPR breach", "regulator", "gdpr breach"),
    ("reported them to the Information Commissioner", "regulator", "information commissioner"),
    ("I'm a journalist writing a piece on this", "press", "journalist"),
    ("I'm a journalist writing a piece on this", "press", "writing a piece"),
    ("going to the BBC with this", "press", "going to the bbc"),
    ("tagging the news so everyone sees it", "press", "tagging the news"),
    ("contacting Watchdog", "press", "contacting watchdog"),
    ("I've emailed your press office", "press", "press office"),
    ("retweet until this goes viral", "press", "this goes viral"),
    ("cancelling my subscription today", "churn", "cancelling my subscription"),
    ("Cancelled my beans sub today", "churn", "cancelled my beans sub"),
    ("Switching to Kettlecraft.", "churn", "switching to kettlecraft"),
    ("switching to @kettlecraft", "churn", "switching to @kettlecraft"),
    ("switching to another brand", "churn", "switching to another brand"),
    ("I'm leaving you @brightkettle", "churn", "i'm leaving you"),
    ("I want to port my number", "churn", "port my number"),
    ("won't be renewing next year", "churn", "won't be renewing"),
    ("we won't renew our contract", "churn", "we won't renew"),
    ("never buying from you again", "churn", "never buying from you"),
    ("please close my account", "churn", "close my account"),
    ("thinking of cancelling", "churn", "thinking of cancelling"),
    ("what's my PAC code", "churn", "pac code"),
    ("the app is down again", "outage", "app is down"),
    ("is anyone else having problems with the app", "outage", "is anyone else having problems"),
    ("no signal since this morning", "outage", "no signal"),
    ("no internet for 3 days", "outage", "no internet"),
    ("it's down again", "outage", "it's down again"),
    ("error 503 on checkout", "outage", "error 503"),
    ("power cut on our street", "outage", "power cut"),
    ("app keeps crashing", "outage", "app keeps crashing"),
    ("can't log in since the update", "outage", "can't log in"),
])
def test_each_risk_cue_carries_the_words_a_person_would_point_to(text, cue, evidence):
    assert evidence in found(text).get(cue, ()), found(text)


@pytest.mark.parametrize("text, cue", [
    ("the toaster burnt my toast again lol", "safety"),
    ("47 minutes on hold, then it cut me off", "safety"),
    ("dying to try the new roast", "safety"),
    ("I fell in love with it", "safety"),
    ("my heart melted when I saw the new colours", "safety"),
    ("the team was on fire tonight", "safety"),
    ("I'm burnt out after this week", "safety"),
    ("reading a Nicholas Sparks novel with my coffee", "safety"),
    ("my phone is exploding with notifications", "safety"),
    ("they choked in the final again", "safety"),
    ("honestly it made me sick of waiting", "safety"),
    ("cut myself off from the news for a week", "safety"),
    ("it hurt me to see how the staff were treated", "safety"),
    ("this price is criminal", "legal"),
    ("the food court was packed", "legal"),
    ("taking the kids to court for tennis", "legal"),
    ("Sue from your Leeds store was brilliant", "legal"),
    ("the attorney general announced new rules", "legal"),
    ("just bought into the new ICO, to the moon", "regulator"),
    ("the CMA awards were great last night", "regulator"),
    ("my FCA dealership fixed it", "regulator"),
    ("the news is great", "press"),
    ("I saw it on the news", "press"),
    ("press the button twice", "press"),
    # Staying with the brand on another of its plans is not leaving it.
    ("switching to the new plan you offer", "churn"),
    ("switching to a different plan next month", "churn"),
    ("how do I switch to dark mode", "churn"),
    ("I'm leaving for work now", "churn"),
    ("cancel my order please, wrong size", "churn"),
    ("unsubscribe me from the marketing emails", "churn"),
    ("moving to London next month", "churn"),
    ("my subscription won't renew, can you help?", "churn"),
    ("prices are down again", "outage"),
    ("words have no power", "outage"),
    ("no problem at all, thanks", "outage"),
    ("calm down", "outage"),
    ("has anyone else had problems with the handle?", "outage"),
    ("the heating system is not working", "outage"),
])
def test_everyday_phrases_raise_no_cue(text, cue):
    assert cue not in found(text), found(text)


# --------------------------------------------------------------------------
# Personal data
# --------------------------------------------------------------------------

@pytest.mark.parametrize("text, kind", [
    ("card 4111 1111 1111 1111 please refund", "card number"),
    ("it was 5555-5555-5555-4444", "card number"),
    ("amex 3782 822463 10005", "card number"),
    ("number 378282246310005 on the receipt", "card number"),
    ("pay into GB82 WEST 1234 5698 7654 32 please", "bank account number"),
    ("IBAN DE89370400440532013000", "bank account number"),
    ("email me at jo@example.com", "e-mail address"),
    ("call me on +44 7700 900123", "phone number"),
    ("ring 07700 900123 after six", "phone number"),
    ("my cell is (555) 201-4567", "phone number"),
    ("call me 5552014567", "phone number"),
    ("Phone#: 7703743799; Account Type: Checking", "phone number"),
    ("our Lagos office is on (+234) 70 94250 556", "phone number"),
    ("my order BK-104233 is late", "order number"),
    ("order number 12345678 never came", "order number"),
])
def test_personal_data_is_found(text, kind):
    assert kind in personal_data(text)


@pytest.mark.parametrize("text", [
    "tracking 4111 1111 1111 1112",  # fails the Luhn check
    "Order 111-5014070-4118645 is late",  # no card starts with 1
    "GB82 WEST 1234 5698 7654 33",  # wrong IBAN check digits
    "GB82 WEST 1234 5698 7654",  # too short for a British IBAN
    "@user hi, see you @ 5",
    "Order # was 3264677178",  # a bare run of digits is not a phone number
    "case ID 2230311591, thanks",
    "in 2024 we bought 3 kettles for £45.99",
])
def test_everyday_numbers_are_not_personal_data(text):
    assert personal_data(text) == ()


@pytest.mark.parametrize("number, valid", [
    ("4111111111111111", True), ("4111111111111112", False),
    ("4012888888881881", True), ("4012888888881882", False),
    ("6011111111111117", True), ("6011111111111118", False),
    ("378282246310005", True), ("378282246310006", False),
])
def test_a_card_number_must_pass_the_luhn_check(number, valid):
    assert ("card number" in personal_data(f"my card is {number}")) is valid


@pytest.mark.parametrize("iban, valid", [
    ("GB82WEST12345698765432", True), ("GB82WEST12345698765433", False),
    ("NL91ABNA0417164300", True), ("NL91ABNA0417164301", False),
    ("FR1420041010050500013M02606", True), ("FR1420041010050500013M02607", False),
    ("BE68539007547034", True), ("BE68539007547035", False),
    ("NO9386011117947", True),
    ("GB82WEST1234569876543", False),  # 21 characters: British IBANs have 22
    ("XX82WEST12345698765432", False),  # no such country
])
def test_an_iban_must_pass_its_check_digits_and_country_length(iban, valid):
    assert ("bank account number" in personal_data(f"send it to {iban} please")) is valid


def test_an_ibans_digits_are_not_also_a_card_or_a_phone_number():
    # The BBAN of this IBAN, on its own, reads as a card number passing Luhn.
    assert personal_data("4000 0000 0000 0002") == ("card number",)
    iban = "DE38 4000 0000 0000 0002 00"
    assert personal_data(f"IBAN {iban}") == ("bank account number",)


def test_personal_data_kinds_come_in_a_fixed_order_once_each():
    text = ("order BK-104233, card 4111 1111 1111 1111 and 4012 8888 8888 1881, "
            "jo@example.com, +44 7700 900123, GB82 WEST 1234 5698 7654 32")
    assert personal_data(text) == ("card number", "bank account number", "e-mail address",
                                   "phone number", "order number")
    assert found(text)["personal_data"] == personal_data(text)


# --------------------------------------------------------------------------
# The shape of the evidence
# --------------------------------------------------------------------------

def test_evidence_is_lowercased_without_repeats_in_order_of_appearance():
    text = "HOSPITAL again. A&E, then the hospital, then A&E. My son is in HOSPITAL."
    assert found(text) == {"safety": ("hospital", "a&e")}


def test_cues_come_in_a_fixed_order():
    text = ("My lawyer says the kettle that scalded my son is unsafe; going to the BBC, "
            "reporting you to trading standards, cancelling my subscription, app is down, "
            "call me on 07700 900123")
    assert [m.name for m in risk_cues(text)] == [
        "safety", "legal", "regulator", "press", "churn", "outage", "personal_data"]


def test_a_post_with_no_cue_has_none():
    assert risk_cues("lovely weather for a cuppa") == []


def test_strong_complaint_search_answers_like_a_compiled_pattern():
    match = STRONG_COMPLAINT.search("Honestly, STILL WAITING for that refund")
    assert isinstance(match, re.Match) and match.group() == "STILL WAITING"
    assert STRONG_COMPLAINT.search("still here, still happy") is None


# --------------------------------------------------------------------------
# The prefilter never changes an answer
# --------------------------------------------------------------------------

def reference(rules: dict[str, re.Pattern], text: str) -> dict[str, tuple[str, ...]]:
    """The slow way: every full pattern over the whole text."""
    matches = {}
    for name, pattern in rules.items():
        evidence = tuple(dict.fromkeys(m.group().lower() for m in pattern.finditer(text)))
        if evidence:
            matches[name] = evidence
    return matches


def reference_personal_data(text: str) -> tuple[str, ...]:
    """The slow way: every detector, with none of the cheap checks in front."""
    ibans = [m.span() for m in cues._IBAN.finditer(text) if cues._iban_valid(m.group())]
    for start, end in ibans:
        text = text[:start] + " " * (end - start) + text[end:]
    kinds = []
    if any(cues._luhn(re.sub(r"\D", "", m.group())) for m in cues._CARD.finditer(text)):
        kinds.append("card number")
    if ibans:
        kinds.append("bank account number")
    for kind, pattern in (("e-mail address", cues._EMAIL), ("phone number", cues._PHONE),
                          ("order number", cues._ORDER)):
        if pattern.search(text):
            kinds.append(kind)
    return tuple(kinds)


def assert_same_as_reference(text: str) -> None:
    fast = found(text)
    assert fast.pop("personal_data", ()) == reference_personal_data(text)
    assert fast == reference(RISK_CUES, text)
    assert category_matches(text) == reference(CATEGORY_WORDS, text)
    strong, slow = STRONG_COMPLAINT.search(text), STRONG_COMPLAINT.regex.search(text)
    assert (strong and strong.span()) == (slow and slow.span())


# Every pattern on its own: the rules' alternatives one by one, and the
# personal data detectors.
EACH_PATTERN = {
    f"{family}:{name}:{index}": whole_words(alternative)
    for family, rules in (("risk", cues._RISK.rules), ("category", cues._CATEGORIES.rules),
                          ("strong", {"complaint": STRONG_COMPLAINT.alternatives}))
    for name, alternatives in rules.items()
    for index, alternative in enumerate(alternatives)
} | {"card": cues._CARD, "iban": cues._IBAN, "phone": cues._PHONE, "order": cues._ORDER,
     "email": cues._EMAIL}
# The pieces the rules are made of, to build posts that come close to matching.
VOCABULARY = sorted({piece for pattern in EACH_PATTERN.values()
                     for piece in re.findall(r"[a-z0-9&'@/%:-]+|[^\x00-\x7f]", pattern.pattern)}
                    | {"İ", "ı", "ſ", "\u212a", "’", "4111", "GB82", "WEST", "+44", "07700"})
separators = st.sampled_from([" ", "", " ", "  ", "\n", ".", ",", "'", "’", "-", "@", "!?"])
near_misses = st.lists(st.tuples(st.sampled_from(VOCABULARY), separators), max_size=14).map(
    lambda parts: "".join(word + sep for word, sep in parts))
cased = st.tuples(near_misses, st.sampled_from([str, str.upper, str.title, str.swapcase])).map(
    lambda pair: pair[1](pair[0]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(cased, st.text()))
def test_the_prefilter_gives_what_the_full_patterns_give(text):
    assert_same_as_reference(text)


BY_RULE: dict[str, list[re.Pattern]] = {}
for key, pattern in EACH_PATTERN.items():
    BY_RULE.setdefault(key.rsplit(":", 1)[0] if key.count(":") == 2 else key, []).append(pattern)


@pytest.mark.parametrize("patterns", BY_RULE.values(), ids=BY_RULE.keys())
@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(data=st.data())
def test_the_prefilter_gives_what_the_full_patterns_give_on_text_that_matches(patterns, data):
    for pattern in patterns:
        assert_same_as_reference(data.draw(st.from_regex(pattern), label=pattern.pattern))


@given(st.text())
def test_risk_cues_never_raise(text):
    risk_cues(text)
    category_matches(text)


@pytest.mark.parametrize("text", [
    "my son is in HOSPİTAL",  # dotted capital I
    "the water ſcalded my arm",  # long s
    "the \u212aETTLE caught fire",  # Kelvin sign for K
    "switching to ıkea",  # dotless i
    "ﬁre hazard",  # the fi ligature
])
def test_letters_that_match_ascii_only_when_case_is_ignored_do_not_fool_the_prefilter(text):
    assert_same_as_reference(text)


def test_those_letters_are_the_only_ones():
    # The prefilter folds these before lowercasing; any other character either
    # lowercases the way case-insensitive matching compares it or cannot
    # match an ASCII letter at all.
    everything = "".join(chr(c) for c in range(0x80, sys.maxunicode + 1)
                         if not 0xD800 <= c <= 0xDFFF)
    beyond_ascii = set()
    for letter in "abcdefghijklmnopqrstuvwxyz":
        beyond_ascii |= set(re.findall(letter, everything, re.IGNORECASE))
    assert beyond_ascii == set(ODD_CASE)
    assert [c for c in everything if len(c.lower()) != 1] == ["\u0130"]


def test_characters_the_rules_spell_out_beyond_ascii_match_only_themselves_or_are_left_open():
    # Letters with case (French, Spanish and German words) have partners the
    # prefilter's lowercasing may not give: it leaves them open, as any text.
    spelled = {c for pattern in EACH_PATTERN.values() for c in pattern.pattern if not c.isascii()}
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    for char in spelled:
        found = set(re.findall(re.escape(char), everything, re.IGNORECASE))
        assert found == {char} or _cased_beyond_ascii(char), char


@pytest.mark.parametrize("pattern", [
    r"(?#a comment)kettle", r"\x41bc", r"(?P<k>kettle) (?P=k)", r"(?x:tea pot)",
])
def test_rules_the_prefilter_cannot_read_are_refused_when_loaded(pattern):
    with pytest.raises(ValueError):
        WordRules({"rule": (pattern,)})


def test_rules_with_many_forms_still_match_exactly():
    # 8 × 8 × 3 × 2 × 3 forms: more than the prefilter spells out one by one.
    rules = WordRules({"rule": (r"(?:a|b|c|d|e|f|g|h)(?:1|2|3|4|5|6|7|8) (?:x|y|z)(?:9|0) "
                                r"(?:kettle|toaster|grinder)",)})
    assert rules.matches("well e5 y0 toaster indeed") == {"rule": ("e5 y0 toaster",)}
    assert rules.matches("well e5 y0 toasters") == {}
