import dataclasses

import pytest

from socialdesk.cases.guidelines import Draft, Finding, check_draft

SAFE_TEXT = "We're so sorry to hear this. Please DM us so we can look into it."


def draft(text=SAFE_TEXT, visibility="public", channel="x", category="question", **kwargs):
    return Draft(text=text, visibility=visibility, channel=channel, category=category, **kwargs)


def checks(findings: list[Finding]) -> list[str]:
    return [finding.check for finding in findings]


def only(findings: list[Finding], check: str) -> Finding:
    [finding] = [finding for finding in findings if finding.check == check]
    return finding


# --------------------------------------------------------------------------
# The whole draft
# --------------------------------------------------------------------------

def test_a_reply_that_follows_every_guideline_has_no_findings():
    assert check_draft(draft(category="complaint", cues=frozenset({"safety"}),
                             allowed_domains=frozenset({"example.com"}), limit=280,
                             text="We're so sorry to hear this. Our guide is at "
                                  "https://help.example.com/kettles - please DM us.")) == []


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_an_empty_reply_is_blocked_with_that_finding_alone(text):
    findings = check_draft(draft(text, category="complaint", limit=1))
    assert checks(findings) == ["empty"]
    assert findings[0].blocking


def test_a_draft_and_a_finding_are_frozen_values():
    with pytest.raises(dataclasses.FrozenInstanceError):
        draft().text = "changed"
    assert Finding("too_long", True, "m") == Finding("too_long", True, "m", "")


def test_findings_come_in_a_fixed_order():
    text = ("It was our fault. Call 07700 900123 or see https://evil.io for more. "
            + "x" * 250)
    findings = check_draft(draft(text, category="complaint", cues=frozenset({"safety"}),
                                 allowed_domains=frozenset({"example.com"}), limit=280))
    assert checks(findings) == ["culpability", "personal_data", "no_acknowledgement",
                                "too_long", "link_not_allowed"]


# --------------------------------------------------------------------------
# Culpability
# --------------------------------------------------------------------------

ADMISSIONS = [
    ("It's our fault and we'll put it right.", "our fault"),
    ("It is our fault.", "our fault"),
    ("This was entirely our fault.", "our fault"),
    ("We are liable for this.", "We are liable"),
    ("We’re fully liable.", "We’re fully liable"),
    ("We are responsible for your injury.", "We are responsible for your injury"),
    ("We're responsible for what happened.", "We're responsible for what happened"),
    ("We admit the handle was loose.", "We admit"),
    ("We have to admit this shouldn't have happened.", "We have to admit"),
    ("We were negligent.", "We were negligent"),
    ("It was our mistake.", "our mistake"),
    ("We take full responsibility.", "We take full responsibility"),
    ("We accept liability for your burns.", "We accept liability"),
    ("We made a mistake with the batch.", "We made a mistake"),
    ("Our kettle caused your burns.", "Our kettle caused your burns"),
    ("We're not going to hide it, it was our fault.", "our fault"),
    ("No, it was our fault.", "our fault"),
    ("We can't deny it was our fault.", "our fault"),
    ("There's no doubt it was our fault.", "our fault"),
    ("It's not ideal but it was our mistake.", "our mistake"),
    ("IT WAS OUR FAULT", "OUR FAULT"),
    ("It was our\nfault.", "our\nfault"),
]


@pytest.mark.parametrize("text, evidence", ADMISSIONS)
def test_it_blocks_an_admission_of_fault_in_a_safety_case(text, evidence):
    finding = only(check_draft(draft(text, cues=frozenset({"safety"}))), "culpability")
    assert finding.blocking
    assert finding.evidence == evidence
    assert f'("{evidence}")' in finding.message


def test_the_message_names_the_case_and_says_what_to_do_instead():
    finding = only(check_draft(draft("It was our fault.", cues=frozenset({"safety"}))),
                   "culpability")
    assert finding.message == (
        'The reply admits fault ("our fault") in a safety case: express sympathy without '
        "admitting liability until the facts are established.")


# The same ideas said the other way round: sympathy, denials, open questions.
NOT_ADMISSIONS = [
    "We're so sorry to hear this.",
    "We are sorry you were hurt.",
    "We take this seriously.",
    "We take your safety seriously and we're looking into it.",
    "It was not our fault.",
    "It wasn’t our fault.",
    "It's not our fault.",
    "We're not liable.",
    "We aren't liable for this.",
    "We are not responsible for your injury.",
    "We are responsible for your safety, so please DM us.",
    "We don't admit anything until we've seen the kettle.",
    "We do not admit liability.",
    "We were not negligent.",
    "It wasn't our mistake.",
    "We do not accept liability.",
    "We don't take responsibility for third-party chargers.",
    "We deny it was our fault.",
    "It was neither fair nor our fault.",
    "We're looking into whether it was our fault.",
    "If it turns out to be our mistake, we'll put it right.",
    "We admire your patience.",
    "Through no fault of your own, the parcel was late.",
]


@pytest.mark.parametrize("text", NOT_ADMISSIONS)
def test_it_lets_sympathy_and_denials_through_in_a_safety_case(text):
    assert "culpability" not in checks(check_draft(draft(text, cues=frozenset({"safety"}))))


@pytest.mark.parametrize("case", [{"cues": frozenset({"legal"})}, {"category": "crisis"},
                                  {"cues": frozenset({"press", "safety"})}])
def test_it_blocks_an_admission_of_fault_in_a_legal_or_crisis_case(case):
    assert "culpability" in checks(check_draft(draft("We accept liability.", **case)))


@pytest.mark.parametrize("case", [{}, {"category": "complaint"},
                                  {"cues": frozenset({"press", "churn", "outage"})}])
def test_it_lets_an_apology_for_our_mistake_through_in_an_ordinary_case(case):
    assert "culpability" not in checks(check_draft(draft("Sorry, it was our mistake.", **case)))


def test_it_checks_admissions_in_a_private_reply_too():
    findings = check_draft(draft("It was our fault.", visibility="private",
                                 cues=frozenset({"legal"})))
    assert "culpability" in checks(findings)


def test_it_quotes_each_admission_once():
    finding = only(check_draft(draft("Our fault. Really, our fault. We are liable.",
                                     category="crisis")), "culpability")
    assert finding.evidence == "Our fault; our fault; We are liable"
    assert '("Our fault", "our fault", "We are liable")' in finding.message
    assert "in a crisis case" in finding.message


# --------------------------------------------------------------------------
# Personal data
# --------------------------------------------------------------------------

PERSONAL_DATA = [
    ("Is your card 4242 4242 4242 4242?", "card number", "ending 4242"),
    ("Is your card 4111111111111111?", "card number", "ending 1111"),
    ("Refund to GB82 WEST 1234 5698 7654 32 is on its way.", "bank account number",
     "GB\u20265432"),
    ("We'll call you on 07700 900123.", "phone number", "\u2026123"),
    ("We've written to jane.doe@mail.com.", "e-mail address", "j\u2026@mail.com"),
    ("Order ORD-123456 is on its way.", "order number", "\u20263456"),
    ("We have your SSN as 078-05-1120.", "national identifier", "\u2026120"),
    ("Is your NI number AB 12 34 56 C?", "national identifier", "\u202656C"),
    ("Votre numéro 1 84 12 76 451 089 46 est noté.", "national identifier", "\u2026946"),
    ("Su DNI 12345678Z está registrado.", "national identifier", "\u202678Z"),
    ("Tenemos su NIE X1234567L.", "national identifier", "\u202667L"),
    ("Ihre Steuer-ID: 86 095 742 719 liegt uns vor.", "national identifier", "\u2026719"),
]


@pytest.mark.parametrize("text, kind, masked", PERSONAL_DATA)
def test_it_blocks_personal_data_in_a_public_reply_and_quotes_it_masked(text, kind, masked):
    finding = only(check_draft(draft(text)), "personal_data")
    assert finding.blocking
    assert f"{kind} ({masked})" in finding.message
    assert finding.evidence == f"{kind}: {masked}"


@pytest.mark.parametrize("text, kind, masked", PERSONAL_DATA)
def test_it_lets_personal_data_through_in_a_private_reply(text, kind, masked):
    assert check_draft(draft(text, visibility="private")) == []


def test_a_masked_card_number_never_shows_more_than_its_last_four_digits():
    finding = only(check_draft(draft("Card 4242 4242 4242 4242 noted.")), "personal_data")
    assert "4242 4242" not in finding.message + finding.evidence


@pytest.mark.parametrize("text", [
    "Your reference 4242 4242 4242 4241 is noted.",  # fails the Luhn check
    # National identifiers whose own check fails, or that were never issued.
    "Ticket 000-12-3456 and 666-12-3456 are closed.",
    "Référence 1 84 12 76 451 089 47, merci.",
    "Pedido 12345678A enviado.",
    "Steuer-ID 12 345 678 901 bitte prüfen.",
    "Code QQ 12 34 56 C is the example on the form.",
    "We open at 9 and close at 17, 7 days a week.",
    "Send it to care at example dot com.",
    "We'll DM you shortly.",
])
def test_it_lets_numbers_that_are_not_personal_data_through(text):
    assert "personal_data" not in checks(check_draft(draft(text)))


def test_it_lists_every_kind_of_personal_data_it_finds():
    finding = only(check_draft(draft("Card 4242 4242 4242 4242, e-mail jo@mail.com.")),
                   "personal_data")
    assert "a card number (ending 4242) and an e-mail address (j\u2026@mail.com)" \
        in finding.message


def test_the_brands_own_helpline_and_address_may_be_given_out_in_public():
    own = frozenset({"0800 123 4567", "Help@Kettle.example"})
    for text in ("Call us free on 0800 123 4567.", "From abroad: +44 800 123 4567.",
                 "Ring 0800-123-4567 any time.", "Write to help@kettle.example."):
        assert check_draft(draft(text, own_contacts=own)) == [], text
    # Anyone else's number or address is still personal data.
    for text in ("Call her on 07700 900123.", "Call her on 0800 123 4568.",
                 "Write to jo@kettle.example."):
        assert "personal_data" in checks(check_draft(draft(text, own_contacts=own))), text


def test_an_e_mail_address_at_the_brands_own_domain_may_be_given_out_in_public():
    allowed = frozenset({"example.com"})
    assert check_draft(draft("Please e-mail care@example.com.", allowed_domains=allowed)) == []
    assert "personal_data" in checks(check_draft(draft("Please e-mail care@example.com.")))


# --------------------------------------------------------------------------
# Acknowledgement
# --------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Sorry about this, please DM us.",
    "We apologise for the wait.",
    "We apologize for the wait.",
    "Our apologies, please DM us.",
    "We understand, please DM us.",
    "We hate to hear that.",
    "That sounds frustrating.",
    "Thanks for letting us know.",
    "Thank you for raising this.",
    "Thanks for flagging it.",
    "Thanks for reaching out.",
    "Thank you for your patience.",
    "We hear you.",
    "That's not the experience we want for you.",
    "That isn’t the experience we want for you.",
    "This is not what we want for our customers.",
])
def test_it_lets_an_acknowledging_public_reply_to_a_complaint_through(text):
    assert check_draft(draft(text, category="complaint")) == []


@pytest.mark.parametrize("text", ["Please DM us your order details.",
                                  "Thanks. DM us.", "Have you tried turning it off and on?"])
def test_it_warns_when_a_public_reply_to_a_complaint_does_not_acknowledge_the_customer(text):
    finding = only(check_draft(draft(text, category="complaint")), "no_acknowledgement")
    assert not finding.blocking
    assert "does not acknowledge" in finding.message


@pytest.mark.parametrize("case", [{"visibility": "private", "category": "complaint"},
                                  {"category": "crisis"}, {"category": "question"},
                                  {"category": "praise"}])
def test_it_does_not_ask_for_acknowledgement_outside_public_replies_to_complaints(case):
    assert check_draft(draft("Please DM us your order details.", **case)) == []


# --------------------------------------------------------------------------
# Length
# --------------------------------------------------------------------------

def test_it_blocks_a_reply_over_the_channel_limit_and_gives_the_count_and_the_limit():
    finding = only(check_draft(draft("Sorry! " + "x" * 305, limit=280)), "too_long")
    assert finding.blocking
    assert finding.message == "The reply has 312 characters; x allows 280."


def test_it_lets_a_reply_at_the_channel_limit_through():
    assert check_draft(draft("x" * 280, limit=280)) == []


def test_it_does_not_count_the_space_around_a_reply():
    assert check_draft(draft("  " + "x" * 280 + "\n", limit=280)) == []


def test_it_does_not_limit_a_reply_without_a_limit():
    assert check_draft(draft("x" * 50_000, channel="email")) == []


def test_it_writes_long_counts_with_separators():
    finding = only(check_draft(draft("x" * 2201, channel="instagram", limit=2200)),
                   "too_long")
    assert finding.message == "The reply has 2,201 characters; instagram allows 2,200."


# --------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------

ALLOWED = frozenset({"example.com"})


@pytest.mark.parametrize("text", [
    "See https://example.com/help",
    "See https://shop.example.com/kettles.",
    "See http://EXAMPLE.COM:8080/help",
    "See www.example.com.",
    "(see https://example.com)",
    "See https://example.com/help?x=1#top, then DM us.",
    "See https://example.com./help",
    "DM us; no link needed.",
])
def test_it_lets_links_to_the_brands_domains_through(text):
    assert check_draft(draft(text, allowed_domains=ALLOWED)) == []


@pytest.mark.parametrize("text, host", [
    ("See https://evil.io/help", "evil.io"),
    ("See https://example.com.evil.io/help", "example.com.evil.io"),
    ("See https://notexample.com", "notexample.com"),
    ("See www.evil.io.", "www.evil.io"),
    ("See HTTPS://EVIL.IO:443).", "evil.io"),
    ("See https://example.com@evil.io/", "evil.io"),
    ("See http://192.168.0.1/", "192.168.0.1"),
])
def test_it_blocks_links_outside_the_brands_domains(text, host):
    finding = only(check_draft(draft(text, allowed_domains=ALLOWED)), "link_not_allowed")
    assert finding.blocking
    assert finding.evidence == host
    assert f"The reply links to {host}, which is not on the brand's list" in finding.message


def test_it_reads_the_host_as_a_browser_does_up_to_a_backslash():
    # Browsers read a backslash as a slash, so the "@" after it is in the path.
    assert check_draft(draft("See https://example.com\\@evil.io/", allowed_domains=ALLOWED)) == []


def test_it_names_every_link_outside_the_brands_domains_once():
    text = "See https://a.io, https://b.io/x and https://a.io/y or https://example.com."
    finding = only(check_draft(draft(text, allowed_domains=ALLOWED)), "link_not_allowed")
    assert finding.evidence == "a.io, b.io"
    assert "links to a.io and b.io, which are not" in finding.message


def test_it_does_not_check_links_when_the_brand_has_no_link_list():
    assert check_draft(draft("See https://evil.io")) == []


def test_it_reads_the_brands_link_list_as_people_type_it():
    listed = frozenset({"https://Example.com/", ".other.org"})
    assert check_draft(draft("See https://www.example.com and https://other.org",
                             allowed_domains=listed)) == []
