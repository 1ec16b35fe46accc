"""Reading mail safely and threading replies: HTML reduced to words, quotes cut,
Message-IDs kept comparable, automated mail told apart, headers never injected."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from imap_tools import MailMessage

from socialdesk.connectors.base import DeliveryError, Outgoing
from socialdesk.connectors.email.messages import automated, message_id, references
from socialdesk.connectors.email.settings import MailSettings, Server
from socialdesk.connectors.email.smtp import compose, subject_of
from socialdesk.connectors.email.text import html_to_text, strip_quotes


@given(st.text())
def test_any_html_at_all_is_read_without_error(html):
    assert isinstance(html_to_text(html), str)


@given(st.text(alphabet=st.characters(blacklist_characters="<&")))
def test_nothing_inside_a_script_or_style_is_ever_text(inside):
    assert html_to_text(f"<p>before</p><script>{inside}</script><style>{inside}</style>"
                        "<p>after</p>") == "before\n\nafter"


def test_unclosed_and_nested_hostile_markup_hides_what_it_should():
    assert html_to_text("<p>hi</p><script>if (a<b) {x('</p>')}</script>ok") == "hi\nok"
    assert html_to_text("<p>hi</p><script>never closed <p>hidden") == "hi"
    assert html_to_text("<p>hi</p><style><style>x</style>") == "hi"
    assert html_to_text("<div>a<svg><text>drawn</text></svg>b</div>") == "ab"
    assert html_to_text("&#x3C;b&#x3E; &amp;amp; &unknown; &#0;") == "<b> &amp; &unknown; \ufffd"


def test_an_outlook_reply_keeps_only_what_was_written_above_the_original():
    body = ("Yes, the order number is 12345.\n\n-----Original Message-----\n"
            "From: Care <care@example.com>\nSent: Monday\n\nWhat is your order number?")
    assert strip_quotes(body) == "Yes, the order number is 12345."


def test_text_written_between_quoted_lines_is_kept():
    body = "On Mon, Care wrote:\n> Which model?\nThe Aurora.\n> Since when?\nLast week."
    assert strip_quotes(body) == "The Aurora.\nLast week."


def test_an_on_wrote_line_that_quotes_nothing_is_the_customers_own_text():
    body = "On Monday my neighbour wrote:\nthat the kettle was recalled. Is it?"
    assert strip_quotes(body) == body


def test_a_body_that_is_only_a_quote_is_kept_whole():
    assert strip_quotes("> forwarded text\n> more") == "> forwarded text\n> more"


def test_message_ids_compare_the_same_wherever_they_appear():
    assert message_id(" <abc@x.example> ") == message_id("abc@x.example") == "abc@x.example"
    assert message_id("<a b\r\n@x>") == "ab@x"
    long = "<" + "x" * 300 + "@x.example>"
    assert message_id(long) == references(f"{long} <b@x>")[0] != long
    assert len(message_id(long)) <= 255


def raw(headers: str) -> MailMessage:
    return MailMessage.from_bytes(f"From: dana@example.org\r\n{headers}\r\n\r\nbody".encode())


@pytest.mark.parametrize(("headers", "reason"), [
    ("Auto-Submitted: auto-generated", "Auto-Submitted: auto-generated"),
    ("Precedence: auto_reply", "Precedence: auto_reply"),
    ("Precedence: junk", "Precedence: junk"),
    ("X-Autoreply: yes", "X-Autoreply header"),
    ("Return-Path: <>", "null Return-Path (a bounce or an automatic reply)"),
    ("Content-Type: multipart/report; report-type=delivery-status", "a delivery or read report"),
])
def test_automated_mail_is_recognised_by_its_headers(headers, reason):
    assert automated(raw(headers)) == reason


def test_a_person_is_a_person_even_through_a_group_address():
    assert automated(raw("Auto-Submitted: no\r\nPrecedence: first-class")) == ""
    # support@ as a Google Group: list headers on every customer's message.
    assert automated(raw("Precedence: list\r\nList-Id: <support.example.com>\r\n"
                         "List-Unsubscribe: <mailto:support+unsubscribe@example.com>")) == ""


def settings_for(address="care@example.com") -> MailSettings:
    server = Server("127.0.0.1", 25, "none", address, "pw")
    return MailSettings(address=address, display_name="Care", imap=server, smtp=server,
                        folder="INBOX", sent_folder="Sent", start="all", timeout=5)


def outgoing(**fields) -> Outgoing:
    return Outgoing(**{"reply_id": 7, "channel": "email", "text": "Hello", "visibility":
                       "private", "in_reply_to": "m1@x.example", "recipient": "dana@example.org",
                       "case_ref": "C-000001", "key": "5d0c", **fields})


@pytest.mark.parametrize(("subject", "expected"), [
    ("Kettle leaking", "Re: Kettle leaking"),
    ("RE: Re: AW:  Kettle   leaking", "Re: Kettle leaking"),
    ("Re[2]: Kettle", "Re: Kettle"),
    ("", "Re: your message"),
    ("Recall notice", "Re: Recall notice"),
])
def test_the_subject_gets_one_re(subject, expected):
    assert subject_of({"subject": subject}) == expected


def test_headers_cannot_be_injected_through_the_subject_or_the_recipient():
    sent = compose(outgoing(context={"subject": "Hi\r\nBcc: all@example.com"}), settings_for())
    assert sent["Bcc"] is None and sent["Subject"] == "Re: Hi Bcc: all@example.com"
    for recipient in ("dana@example.org\r\nBcc: all@example.com", "not an address", ""):
        with pytest.raises(DeliveryError, match="is not an e-mail address") as refused:
            compose(outgoing(recipient=recipient), settings_for())
        assert not refused.value.retryable


def test_a_reply_without_references_starts_them_with_the_message_it_answers():
    sent = compose(outgoing(context={"references": ["m1@x.example", 42]}), settings_for())
    assert (sent["In-Reply-To"], sent["References"]) == ("<m1@x.example>", "<m1@x.example>")
    assert sent["Message-ID"] == "<5d0c@example.com>"
