"""Transparent rules: categories and risk cues, each with the words that matched.

These are the first, deliberately simple version of the desk's judgement; the
evidence they return is what the case page shows an agent, so every pattern
should be one a person would agree with on sight.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Match:
    name: str
    evidence: tuple[str, ...]


def _words(*patterns: str) -> re.Pattern:
    return re.compile(r"(?<![\w])(?:" + "|".join(patterns) + r")(?![\w])", re.IGNORECASE)


RISK_CUES: dict[str, re.Pattern] = {
    "safety": _words(
        # "burnt toast" is not an injury: burns count only with a person in them.
        r"(?:got|get|was|been|i'?m) burn(?:ed|t)", r"burns? (?:on|to) (?:my|his|her|their)",
        r"scald(?:ed|ing|s)?", r"injur(?:y|ies|ed)", r"hospital",
        r"a&e", r"emergency room", r"caught fire", r"on fire", r"fire hazard",
        r"explod(?:ed|es|ing)", r"exploded", r"electric shock", r"shocked me", r"sparks?",
        r"smok(?:e|ing) (?:came|coming|pouring)", r"melted", r"unsafe", r"dangerous",
        # "cut me off" is a phone line, not an injury: cuts need a body part.
        r"(?:hurt|burn(?:ed|t)|scalded) (?:me|him|her|them)",
        r"(?:hurt|cut|burn(?:ed|t)|scalded) (?:(?:my|his|her|their|our) "
        r"(?:hands?|arms?|fingers?|legs?|face|skin|wrists?|thumbs?|mouth|tongue|lips?|feet|foot|"
        r"chest|eyes?|son|daughter|child|kids?|baby|partner|wife|husband))",
        r"blisters?", r"choking",
    ),
    "legal": _words(
        r"lawyers?", r"attorneys?", r"solicitors?", r"su(?:e|ing) (?:you|them)",
        r"lawsuit", r"legal action", r"small claims", r"court", r"class action",
    ),
    "regulator": _words(
        r"trading standards", r"ombudsman", r"ftc", r"cpsc", r"consumer protection",
        r"regulators?", r"bbb", r"better business bureau", r"report(?:ing)? you to",
    ),
    "press": _words(
        r"journalists?", r"reporters?", r"(?:going|went|talk(?:ing)?|speak(?:ing)?) to the press",
        r"news ?desk", r"writing (?:a|an) (?:story|piece|article)",
        r"contacted the (?:press|media)",
    ),
    "churn": _words(
        r"cancel(?:l?ing|l?ed)? (?:my|the|our) (?:subscription|account|order|plan|membership)",
        r"switch(?:ing|ed)? to", r"moving to (?:another|a different)", r"never (?:buying|ordering)",
        r"done with (?:you)", r"close my account", r"unsubscrib(?:e|ing|ed)",
        r"last time i (?:buy|order)", r"taking my (?:money|business) elsewhere",
    ),
    "outage": _words(
        r"outage",
        r"(?:app|site|website|service|server|login)s? (?:is |are )?"
        r"(?:down|not loading|crash(?:ing|es|ed)|won'?t load|not working)",
        r"down for everyone", r"can'?t (?:log ?in|sign ?in|connect)", r"error 50\d",
    ),
}

# Personal data posted in public: the reply has to move the conversation
# offline, and the post may need hiding.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+\w")
_PHONE = re.compile(r"(?<![\w])\+?\d(?:[ ().-]?\d){8,13}(?![\w])")
_ORDER = re.compile(
    r"(?<![\w])(?:order|ord|booking|account|acct)\s*(?:no\.?|number|#)?\s*[:#]?\s*"
    r"[A-Z]{0,4}-?\d{5,}(?![\w])"
    r"|(?<![\w])[A-Z]{2,4}-\d{5,}(?![\w])",
    re.IGNORECASE,
)
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def personal_data(text: str) -> tuple[str, ...]:
    found = []
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and _luhn(digits):
            found.append("card number")
    if _EMAIL.search(text):
        found.append("e-mail address")
    if _PHONE.search(text):
        found.append("phone number")
    if _ORDER.search(text):
        found.append("order number")
    return tuple(dict.fromkeys(found))


def risk_cues(text: str) -> list[Match]:
    cues = []
    for name, pattern in RISK_CUES.items():
        evidence = tuple(dict.fromkeys(m.group().lower() for m in pattern.finditer(text)))
        if evidence:
            cues.append(Match(name, evidence))
    pii = personal_data(text)
    if pii:
        cues.append(Match("personal_data", pii))
    return cues


CATEGORY_WORDS: dict[str, re.Pattern] = {
    "spam": _words(
        r"crypto", r"bitcoin", r"btc", r"forex", r"nft", r"airdrop", r"follow ?back",
        r"(?:buy|cheap|real) followers", r"dm (?:me )?for (?:a )?collab", r"promo code",
        r"earn (?:daily|weekly|[$£€]?\d[\d,]*)", r"(?:work|works|earn) from home", r"giveaway",
        r"click (?:here|the link)", r"claim (?:here|your prize|it)", r"link in (?:my )?bio",
        r"passive ?income", r"trading (?:bot|signals)", r"\d+k (?:real )?followers",
        r"cheap followers", r"blue tick", r"verify your account", r"\d+% off",
        r"limited stock", r"dm (?:me|us|now) (?:for|to)", r"promote (?:it|your)",
        r"you(?:'ve| have)? (?:won|been selected)",
        r"free (?:iphone|gift ?card|money)", r"check (?:out )?my (?:channel|profile|page)",
        r"subscribe to my", r"investment (?:plan|opportunity)", r"onlyfans", r"telegram",
        r"100% guaranteed", r"guaranteed results", r"seo services",
    ),
    "abuse": _words(
        r"idiots?", r"stupid", r"morons?", r"scum", r"clowns?", r"losers?", r"pathetic",
        r"f+u+c+k+ (?:you|off|this company)", r"fuck(?:ing)? (?:useless|idiots?|clowns?)",
        r"screw you", r"you suck", r"go to hell", r"shut up", r"garbage company",
        r"trash company", r"incompetent", r"bastards?", r"assholes?", r"dumb",
        r"(?:crap|trash|garbage|rubbish) (?:company|staff|service|brand|products?)",
    ),
    "complaint": _words(
        r"broken", r"broke",
        r"(?:does ?n[o']?t|did ?n[o']?t|is ?n[o']?t|are ?n[o']?t|won'?t|stopped|not) work(?:ing)?",
        r"had nothing", r"no reply", r"(?:double|two) payments?", r"taken (?:two|2) payments",
        r"still (?:waiting|not|no)", r"never (?:arrived|came|received|got)",
        r"(?:has ?n[o']?t|have ?n[o']?t|not yet) (?:arrived|received|got|heard)",
        r"refunds?", r"charged (?:me )?(?:twice|double|again)", r"double charged", r"overcharged",
        r"late", r"delay(?:ed|s)?", r"missing", r"faulty", r"defective", r"leak(?:s|ing|ed)?",
        r"disappoint(?:ed|ing)", r"terrible", r"awful", r"horrible", r"worst", r"useless",
        r"unacceptable", r"ridiculous", r"rude", r"no (?:one|response|reply|answer)",
        r"ignor(?:ed|ing)", r"problems?", r"issues?", r"errors?", r"fix (?:this|it)",
        r"wrong", r"damaged", r"cold", r"poor", r"complain(?:t|ed|ing)?", r"fed up", r"sucks?",
        r"crash(?:es|ed|ing)?", r"can'?t", r"cannot", r"unable", r"waste", r"lost",
    ),
    "misinformation": _words(
        r"banned (?:in|by|from)", r"contains? (?:lead|asbestos|mercury|poison|toxins?)",
        r"(?:closing|shutting) (?:down|all)", r"going (?:bankrupt|out of business|bust)",
        r"i heard (?:that|they)", r"apparently (?:they|the)", r"rumou?r",
        r"(?:it'?s|is) a scam", r"(?:secretly|quietly) (?:owned|sold|recalled)", r"fake news",
        r"everyone knows (?:that|they)", r"causes? cancer",
    ),
    "rant": _words(
        r"rant", r"/s", r"lol", r"lmao", r"rofl", r"🙄", r"😂", r"🤡", r"satire", r"meme",
        r"thanks for nothing", r"oh great", r"just what i needed", r"yeah right", r"sure jan",
        r"clearly", r"genius", r"masterpiece", r"10/10",
    ),
    "suggestion": _words(
        r"would (?:be|love) (?:great|nice|cool|it) if", r"(?:please|pls) (?:add|make|bring)",
        r"you should", r"suggestions?", r"feature request", r"i wish (?:you|there|it)",
        r"it would be (?:nice|great|good)", r"consider (?:adding|making)", r"why not (?:add|offer)",
        r"how about (?:adding|a|an)", r"idea:",
    ),
    "question": _words(
        r"how (?:do|does|can|long|much|to)", r"what (?:is|are|does|time)",
        r"when (?:is|will|does|do)",
        r"where (?:is|can|do)", r"does (?:it|the|this|anyone)", r"do you", r"can (?:i|you|we)",
        r"is (?:it|there|this)", r"are (?:there|you)", r"anyone know", r"any idea",
        r"wondering", r"help me", r"quick question",
    ),
    "praise": _words(
        r"love", r"loving", r"thanks?", r"thank you", r"great", r"amazing", r"awesome",
        r"brilliant", r"excellent", r"fantastic", r"best", r"perfect", r"superb", r"kudos",
        r"shout ?out", r"recommend", r"delighted", r"happy", r"❤️?", r"😍", r"🙌", r"👏",
    ),
}


# Words that name a failed experience outright: a complaint however politely
# (or cheerfully, with an emoji) it is put.
STRONG_COMPLAINT = _words(
    r"still waiting", r"never (?:arrived|came|received|got)", r"had nothing",
    r"(?:is|are|does|did|has|have) ?n[o']?t (?:work(?:ing|ed)?|arrived|come)",
    r"not working", r"stopped working", r"refunds?", r"charged (?:me )?(?:twice|double|again)",
    r"double (?:charged|payment)", r"(?:two|2) payments", r"leak(?:s|ing|ed)", r"faulty",
    r"broken", r"no (?:reply|response|answer)", r"damaged", r"missing",
)


def category_matches(text: str) -> dict[str, tuple[str, ...]]:
    found = {}
    for name, pattern in CATEGORY_WORDS.items():
        evidence = tuple(dict.fromkeys(m.group().lower() for m in pattern.finditer(text)))
        if evidence:
            found[name] = evidence
    return found
