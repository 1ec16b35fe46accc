"""Answering by e-mail: an agent's reply leaves through a real SMTP server threaded
under the customer's message, is filed in Sent where it can be found after a
crash, and a server that does not take it shows as retrying, then not delivered,
with the server's words."""

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from socialdesk.audit.models import Event
from socialdesk.cases.actions import do_submit_reply
from socialdesk.cases.clock import tick
from socialdesk.cases.models import Case, Reply
from socialdesk.cases.outbox import SENDING_TIMEOUT
from socialdesk.cases.tasks import MAX_ATTEMPTS, deliver_reply, outgoing_for
from socialdesk.connectors.base import DeliveryError
from socialdesk.connectors.email.connector import EmailConnector
from socialdesk.connectors.email.tests.conftest import make_account
from socialdesk.connectors.email.tests.test_listening import mail, poll
from socialdesk.ingestion.models import Post

ANSWER = "Hi Dana, sorry about the leak: a replacement kettle is on its way."


@pytest.fixture
def heard(teams, mailbox, smtp_server):
    """A customer's second message in a thread, heard by the desk: the case to answer."""
    account = make_account(mailbox, smtp_server, display_name="Kettle Co Care")
    mailbox.deliver(mail(2, "Re: Kettle leaking", "Still leaking, any news?",
                         headers="In-Reply-To: <m1@mail.example.org>\n"
                                 "References: <m0@mail.example.org> <m1@mail.example.org>\n"))
    poll(account)
    return account, Case.objects.get()


def test_a_reply_arrives_threaded_under_the_customers_message(
        heard, agent, mailbox, smtp_server, django_capture_on_commit_callbacks):
    account, case = heard
    with django_capture_on_commit_callbacks(execute=True):
        reply = do_submit_reply(case, agent, ANSWER, "private")

    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    [(sender, recipients, sent)] = smtp_server.received
    assert (sender, recipients) == (mailbox.address, ["dana@example.org"])
    assert sent["From"] == f"Kettle Co Care <{mailbox.address}>"
    assert sent["To"] == "dana@example.org"
    assert sent["Subject"] == "Re: Kettle leaking"  # not "Re: Re:"
    assert sent["In-Reply-To"] == "<m2@mail.example.org>"
    assert sent["References"] == ("<m0@mail.example.org> <m1@mail.example.org> "
                                  "<m2@mail.example.org>")
    assert sent["Message-ID"] == f"<{reply.delivery_key}@example.com>"
    assert sent.get_content().strip() == ANSWER
    assert reply.post.external_id == f"{reply.delivery_key}@example.com"

    # Filed in Sent, where the sweeper finds it after a crash.
    [filed] = mailbox.messages("Sent")
    assert filed["Message-ID"] == sent["Message-ID"]
    found = EmailConnector().find_delivered(account, outgoing_for(reply))
    assert found.external_id == f"{reply.delivery_key}@example.com"

    # The customer answers our reply: it joins the case.
    mailbox.deliver(mail(3, "Re: Kettle leaking", "Thanks, it came today!",
                         headers=f"In-Reply-To: {sent['Message-ID']}\n"))
    poll(account)
    answer = Post.objects.get(external_id="m3@mail.example.org")
    assert answer.parent == reply.post and answer.case == case


def test_a_reply_the_sweeper_finds_in_sent_is_recorded_not_sent_again(
        heard, agent, mailbox, smtp_server):
    account, case = heard
    reply = do_submit_reply(case, agent, ANSWER, "private")  # queued; no worker ran
    # A worker sent it, then died before recording it.
    EmailConnector().deliver(account, outgoing_for(reply))
    Reply.objects.filter(pk=reply.pk).update(
        status=Reply.Status.SENDING, attempts=1,
        status_at=timezone.now() - SENDING_TIMEOUT - timedelta(seconds=1))
    assert tick()["replies_found_sent"] == 1

    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT
    assert len(smtp_server.received) == 1


def test_a_reply_the_server_never_took_is_not_found(heard, agent, mailbox):
    account, case = heard
    reply = do_submit_reply(case, agent, ANSWER, "private")
    assert EmailConnector().find_delivered(account, outgoing_for(reply)) is None


def test_a_reply_the_server_cannot_take_is_retried_then_not_delivered_with_its_words(
        heard, agent, smtp_server):
    account, case = heard
    smtp_server.stop()
    reply = do_submit_reply(case, agent, ANSWER, "private")
    with pytest.raises(Retry):  # the worker would try again after a back-off
        deliver_reply.delay(reply.pk)

    reply.refresh_from_db()
    assert reply.status == Reply.Status.QUEUED
    assert reply.last_error.startswith(f"cannot send through 127.0.0.1:{smtp_server.port}: ")
    assert "refused" in reply.last_error.lower()
    assert Event.objects.get(verb="reply.retrying").data["error"] == reply.last_error

    Reply.objects.filter(pk=reply.pk).update(attempts=MAX_ATTEMPTS - 1)
    assert deliver_reply.delay(reply.pk).get() == "failed"  # the last attempt
    reply.refresh_from_db()
    assert reply.get_status_display() == "Not delivered"
    assert "refused" in reply.last_error.lower()
    assert not Reply.objects.filter(status=Reply.Status.SENT).exists()


def test_a_recipient_the_server_refuses_is_not_tried_again(heard, agent, smtp_server):
    account, case = heard
    smtp_server.collector.refuse_recipients["dana@example.org"] = \
        "550 5.1.1 <dana@example.org>: Recipient address rejected: User unknown"
    reply = do_submit_reply(case, agent, ANSWER, "private")
    assert deliver_reply.delay(reply.pk).get() == "failed"
    reply.refresh_from_db()
    assert reply.last_error == (
        "127.0.0.1 refused the recipient dana@example.org: 550 5.1.1 <dana@example.org>: "
        "Recipient address rejected: User unknown")


def test_a_busy_recipient_is_tried_again(heard, agent, smtp_server):
    account, case = heard
    smtp_server.collector.refuse_recipients["dana@example.org"] = \
        "450 4.2.1 Mailbox busy, try again later"
    with pytest.raises(DeliveryError, match="450 4.2.1 Mailbox busy") as refused:
        EmailConnector().deliver(account, outgoing_for(
            do_submit_reply(case, agent, ANSWER, "private")))
    assert refused.value.retryable


def test_a_wrong_smtp_password_is_not_tried_again_and_says_why(heard, agent, mailbox,
                                                              smtp_server):
    account, case = heard
    account.set_secrets({"password": "a test password", "smtp_password": "wrong"})
    account.save()
    with pytest.raises(DeliveryError, match=f"127.0.0.1 refused the sign-in as "
                                            f"{mailbox.address}: 535") as refused:
        EmailConnector().deliver(account, outgoing_for(
            do_submit_reply(case, agent, ANSWER, "private")))
    assert not refused.value.retryable
    assert smtp_server.received == [] and mailbox.messages("Sent") == []


def bounce(n: int, original_id: str, *, action="failed", headers_part="text/rfc822-headers",
           diagnostic="smtp; 550 5.1.1 <dana@example.org>: Recipient address rejected") -> str:
    """A delivery status notification (RFC 3464) as Postfix writes one."""
    original = (f"From: Kettle Co Care <care@example.com>\nTo: dana@example.org\n"
                f"Subject: Re: Kettle leaking\nMessage-ID: <{original_id}>\n")
    if headers_part == "message/rfc822":
        original += "\nHi Dana, sorry about the leak.\n"
    return (f"From: MAILER-DAEMON@mail.example.com (Mail Delivery System)\n"
            f"To: care@example.com\nSubject: Undelivered Mail Returned to Sender\n"
            f"Date: Mon, 07 Dec 2026 10:00:00 +0000\nMessage-ID: <bounce{n}@mail.example.com>\n"
            "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
            "--B\nContent-Type: text/plain\n\nI'm sorry to have to inform you that your "
            "message could not be delivered.\n\n"
            "--B\nContent-Type: message/delivery-status\n\n"
            "Reporting-MTA: dns; mail.example.com\n\n"
            f"Final-Recipient: rfc822; dana@example.org\nAction: {action}\n"
            f"Status: 5.1.1\nDiagnostic-Code: {diagnostic}\n\n"
            f"--B\nContent-Type: {headers_part}\n\n{original}\n--B--\n")


@pytest.mark.parametrize("headers_part", ["text/rfc822-headers", "message/rfc822"])
def test_a_bounced_reply_shows_not_delivered_and_goes_again_as_a_new_message(
        heard, agent, mailbox, smtp_server, django_capture_on_commit_callbacks, headers_part):
    from socialdesk.cases.actions import do_retry_reply

    account, case = heard
    with django_capture_on_commit_callbacks(execute=True):
        reply = do_submit_reply(case, agent, ANSWER, "private")
    reply.refresh_from_db()
    first_id = reply.post.external_id
    # A delay report says nothing is lost yet; another message's bounce is not ours.
    mailbox.deliver(bounce(1, first_id, action="delayed", headers_part=headers_part))
    mailbox.deliver(bounce(2, "someone-else@example.com", headers_part=headers_part))
    mailbox.deliver(bounce(3, first_id, headers_part=headers_part))

    report = poll(account)
    assert (report.created, report.undelivered) == (0, 1)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.FAILED and reply.post is None
    assert reply.last_error == ("the recipient's mail server returned it: dana@example.org; "
                                "5.1.1; smtp; 550 5.1.1 <dana@example.org>: Recipient address "
                                "rejected")
    assert Event.objects.filter(verb="reply.bounced", case=case).count() == 1
    assert Post.objects.filter(external_id=first_id).exists()  # the thread keeps what was sent
    assert poll(account).undelivered == 0  # read once

    with django_capture_on_commit_callbacks(execute=True):
        do_retry_reply(reply, agent)
    reply.refresh_from_db()
    assert reply.status == Reply.Status.SENT and reply.post.external_id != first_id
    assert [m["Message-ID"] for _, _, m in smtp_server.received] == \
        [f"<{first_id}>", f"<{reply.post.external_id}>"]


def test_a_reply_goes_where_the_customers_reply_to_asks(teams, agent, mailbox, smtp_server,
                                                       django_capture_on_commit_callbacks):
    account = make_account(mailbox, smtp_server)
    mailbox.deliver(mail(1, "Order 77", "Where is my order?",
                         sender="Web form <forms@shop.example.com>",
                         headers="Reply-To: Dana Reyes <Dana@Example.org>\n"))
    mailbox.deliver(mail(2, "Order 78", "And this one?", sender="Erin <erin@example.net>",
                         headers="Reply-To: erin@example.net, boss@example.net\n"))
    poll(account)
    for external_id, to in [("m1@mail.example.org", "dana@example.org"),
                            ("m2@mail.example.org", "erin@example.net")]:
        case = Post.objects.get(external_id=external_id).case
        with django_capture_on_commit_callbacks(execute=True):
            do_submit_reply(case, agent, ANSWER, "private")
        assert smtp_server.received[-1][1] == [to]
