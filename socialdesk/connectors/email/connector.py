"""A brand's mailbox: posts are the messages arriving in a folder (IMAP, read-only:
nothing is marked read or moved, the mailbox may be shared with people), replies
go out over SMTP and are filed in the Sent folder, where they can be found again
after a crash.

The checkpoint is the folder's UIDVALIDITY and the last UID read. A server that
renumbers the folder (a new UIDVALIDITY) has it read again from the start: the
messages come back as duplicates, stored once under their Message-ID.
"""

import imaplib
import logging
import time
from datetime import UTC, datetime

from django.conf import settings
from imap_tools import MailMessageFlags

from socialdesk.connectors.base import (
    ConnectorError,
    Delivered,
    DeliveryError,
    Fetched,
    Outgoing,
    Setting,
)
from socialdesk.connectors.email import oauth
from socialdesk.connectors.email.imap import signed_in
from socialdesk.connectors.email.messages import (
    NotAPost,
    bounce_of,
    fallback_id,
    message_id,
    to_record,
)
from socialdesk.connectors.email.settings import MailSettings, mail_settings
from socialdesk.connectors.email.smtp import compose, reply_id, send
from socialdesk.connectors.oauth import SignIn
from socialdesk.ingestion.records import RecordError, check_record

logger = logging.getLogger(__name__)

# Messages fetched in one call, and per IMAP command: whole messages, attachments
# included, are held in memory until they are stored.
MAX_BATCH = 100
FETCH_CHUNK = 20
# Seconds one IMAP IDLE lasts before it is re-issued (RFC 2177: at most 29 minutes).
WATCH_SECONDS = 60


class EmailConnector:
    name = "email"
    label = "An e-mail mailbox (IMAP and SMTP)"
    channels = ("email",)
    settings = (
        Setting("imap_host", "IMAP server", "Such as imap.example.com"),
        Setting("imap_port", "IMAP port", "Leave empty for the usual one (993 with SSL)",
                required=False, kind="number"),
        Setting("imap_security", "IMAP security", "ssl, starttls, or none (this machine only)",
                default="ssl"),
        Setting("smtp_host", "SMTP server", "Such as smtp.example.com; empty: the desk only "
                "reads this mailbox", required=False),
        Setting("smtp_port", "SMTP port", "Leave empty for the usual one (465 with SSL)",
                required=False, kind="number"),
        Setting("smtp_security", "SMTP security", "ssl, starttls, or none (this machine only)",
                required=False, default="ssl"),
        Setting("username", "Login", "When it is not the mailbox address", required=False),
        Setting("password", "Password", "The mailbox's password, or an app password where "
                "the provider asks for one; empty when the desk signs in with OAuth",
                secret=True, required=False),
        Setting("oauth_token_url", "OAuth token endpoint", "To sign in with OAuth 2.0 instead "
                "of a password, as Microsoft 365 requires: https://login.microsoftonline.com/"
                "<tenant>/oauth2/v2.0/token, or https://oauth2.googleapis.com/token for Gmail",
                required=False),
        Setting("oauth_client_id", "OAuth client id", "The desk's app registration at the "
                "provider", required=False),
        Setting("oauth_client_secret", "OAuth client secret", "Where the app registration "
                "has one", secret=True, required=False),
        Setting("oauth_refresh_token", "OAuth refresh token", "Leave empty: once the account "
                "is saved, \"Sign in at the provider\" on its page gets one",
                secret=True, required=False),
        Setting("oauth_authorize_url", "OAuth sign-in page", "Where the provider's page is "
                "not the usual one: the desk knows Google's and Microsoft's", required=False),
        Setting("oauth_scope", "OAuth scopes", "Where the provider needs them with each "
                "token, such as https://outlook.office.com/IMAP.AccessAsUser.All "
                "https://outlook.office.com/SMTP.Send offline_access", required=False),
        Setting("folder", "Folder read for posts", required=False, default="INBOX"),
        Setting("sent_folder", "Folder replies are filed in", required=False, default="Sent"),
        Setting("display_name", "Name shown with the address", required=False),
        Setting("start", "Read", "all: the whole folder at first; new: only mail that arrives "
                "from now", required=False, default="all"),
    )

    # -- hearing ---------------------------------------------------------------------

    def check(self, account) -> str:
        mail = mail_settings(account)
        with signed_in(mail) as box:
            box.folder.set(mail.folder, readonly=True)
            count = box.folder.status(mail.folder, ["MESSAGES"])["MESSAGES"]
        how = " with OAuth" if mail.imap.oauth else ""
        return (f"signed in to {mail.imap.host} as {mail.imap.username}{how}; {mail.folder} holds "
                f"{count} message{'' if count == 1 else 's'}")

    def fetch(self, account, checkpoint: dict, limit: int) -> Fetched:
        mail = mail_settings(account)
        limit = max(1, min(limit, MAX_BATCH))
        with signed_in(mail) as box:
            # Read-only (EXAMINE), and fetched with BODY.PEEK below: nothing in the
            # mailbox changes, not even the \Seen flag people may rely on.
            box.folder.set(mail.folder, readonly=True)
            status = box.folder.status(mail.folder, ["UIDVALIDITY", "UIDNEXT"])
            validity = int(status["UIDVALIDITY"])
            if (checkpoint.get("folder"), checkpoint.get("uidvalidity")) == (mail.folder,
                                                                             validity):
                last = int(checkpoint.get("uid", 0))
            else:  # first fetch, another folder, or a renumbered one
                last = 0 if mail.start == "all" else int(status["UIDNEXT"]) - 1
            # "UID n:*" always matches the newest message, even one below n. No CHARSET
            # in searches: some servers refuse one, and these are ASCII.
            waiting = sorted(u for u in map(int, box.uids(f"UID {last + 1}:*", charset=None))
                             if u > last)
            batch = waiting[:limit]
            found = Fetched(records=[], checkpoint={"folder": mail.folder, "uidvalidity": validity,
                                                    "uid": batch[-1] if batch else last},
                            more=len(waiting) > len(batch))
            if batch:
                for message in box.fetch(uid_list=[str(u) for u in batch], mark_seen=False,
                                         bulk=FETCH_CHUNK):
                    self._read(box, message, mail, validity, found)
        return found

    watched_by = "as soon as the server announces them, where it offers IMAP IDLE"

    def watch(self, account, stopping, woke) -> None:
        """IMAP IDLE on the account's folder (RFC 2177): `woke()` when the server
        announces new messages. IDLE is re-issued every WATCH_SECONDS, so that a
        stop is noticed and no server or firewall drops a connection that seems
        idle; the server's announcements in between wait in its answer."""
        mail = mail_settings(account)
        with signed_in(mail) as box:
            if "IDLE" not in box.client.capabilities:
                raise ConnectorError(f"{mail.imap.host} does not offer IMAP IDLE: the mailbox "
                                     "is polled only", ConnectorError.PERMANENT)
            box.folder.set(mail.folder, readonly=True)
            woke()
            while not stopping.is_set():
                said = box.idle.wait(timeout=WATCH_SECONDS)
                # An arrival announced outside IDLE (while the desk fetched) is kept
                # by imaplib with the answer to the next command.
                before = box.client.untagged_responses.pop("EXISTS", None)
                if before or any(b" EXISTS" in line for line in said):
                    woke()

    def _read(self, box, message, mail: MailSettings, validity: int, found: Fetched) -> None:
        uid = int(message.uid)
        where = f"{mail.folder} UID {uid}"
        records, rejected = found.records, found.rejected
        try:
            if bounced := bounce_of(message):
                # A reply of ours that did not arrive: the desk marks it not delivered.
                found.undelivered.append(bounced)
                rejected.append((where, f"a bounce of <{bounced[0]}>: {bounced[1][:200]}"))
                return
            external_id = (message_id(message.obj.get("Message-ID", ""))
                           or fallback_id(validity, uid, mail.folder, mail.imap.host))
            where = f"{where} <{external_id}>"
            record = to_record(message, external_id=external_id, uid=uid, folder=mail.folder,
                               arrived=lambda: _arrival(box, uid), own_address=mail.address,
                               max_chars=settings.MAX_POST_CHARS)
            records.append(check_record(record, settings.MAX_POST_CHARS))
        except (NotAPost, RecordError) as e:
            rejected.append((where, str(e)))
        except (imaplib.IMAP4.error, OSError):
            raise  # the connection, not the message: the whole fetch is retried
        except Exception as e:  # noqa: BLE001 - one malformed message must not stop the mailbox
            logger.warning("could not read %s", where, exc_info=True)
            rejected.append((where, f"could not be read: {type(e).__name__}: {e}"[:300]))

    # -- signing in with OAuth ------------------------------------------------------

    def sign_in(self, account) -> SignIn | None:
        """Where an admin signs in to the mailbox; None when it takes a password."""
        if not (account.config or {}).get("oauth_token_url"):
            return None
        return oauth.sign_in(account, mail_settings(account, signing_in=True))

    def keep_sign_in(self, account, answer: dict) -> None:
        oauth.keep_sign_in(account, answer)

    # -- answering -------------------------------------------------------------------

    def deliver(self, account, outgoing: Outgoing) -> Delivered:
        mail = _delivery_settings(account)
        message = compose(outgoing, mail)
        # Sent first, filed after. Filing first would let a crash in between leave a
        # copy in Sent of a reply that never left: find_delivered would then record
        # it as delivered and the customer would never get it, nor anyone notice.
        # Sending first risks the opposite, a crash after the server took the
        # message and before it is filed: find_delivered says "not found" and the
        # reply goes out a second time, under the same Message-ID, which many mail
        # services recognise as one message. A duplicate is the lesser harm.
        send(message, mail.smtp, mail.address, mail.timeout)
        try:
            with signed_in(mail) as box:
                if not box.folder.exists(mail.sent_folder):
                    box.folder.create(mail.sent_folder)
                box.append(message.as_bytes(), mail.sent_folder,
                           flag_set=[MailMessageFlags.SEEN])
        except ConnectorError as e:
            # Delivered all the same; only a lookup after a crash would miss it.
            logger.warning("reply %s was sent but not filed in %s: %s", outgoing.reply_id,
                           mail.sent_folder, e)
        return Delivered(external_id=reply_id(outgoing, mail))

    def find_delivered(self, account, outgoing: Outgoing) -> Delivered | None:
        """The reply in the Sent folder, by the Message-ID its key gave it."""
        mail = _delivery_settings(account)
        wanted = reply_id(outgoing, mail)
        try:
            with signed_in(mail) as box:
                if not box.folder.exists(mail.sent_folder):
                    return None
                box.folder.set(mail.sent_folder, readonly=True)
                found = box.uids(f'HEADER Message-ID "<{wanted}>"', charset=None)
        except ConnectorError as e:
            raise DeliveryError(str(e), retryable=e.kind == ConnectorError.RETRYABLE) from e
        return Delivered(external_id=wanted) if found else None


def _delivery_settings(account) -> MailSettings:
    if account is None:
        raise DeliveryError("no e-mail account to send from: add one with delivery "
                            "\"email\"", retryable=False)
    try:
        mail = mail_settings(account)
    except ConnectorError as e:
        raise DeliveryError(str(e), retryable=e.kind == ConnectorError.RETRYABLE) from e
    if mail.smtp is None:
        raise DeliveryError("no SMTP server: set the account's config.smtp_host",
                            retryable=False)
    return mail


def _arrival(box, uid: int) -> datetime | None:
    """When the server received the message (its INTERNALDATE)."""
    status, data = box.client.uid("FETCH", str(uid), "(INTERNALDATE)")
    parsed = imaplib.Internaldate2tuple(data[0]) if status == "OK" and data and data[0] else None
    return datetime.fromtimestamp(time.mktime(parsed), UTC) if parsed else None
