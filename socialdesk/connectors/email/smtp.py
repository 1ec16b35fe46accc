"""The SMTP side: a reply composed as a plain-text message threaded under the
customer's, and sent with a timeout, the server's refusals classified."""

import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from socialdesk.connectors.base import ConnectorError, DeliveryError, Outgoing
from socialdesk.connectors.email.messages import MAX_REFERENCES, message_id
from socialdesk.connectors.email.oauth import xoauth2
from socialdesk.connectors.email.settings import MailSettings, Server

_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|vs)\s*(\[\d+\])?\s*:\s*", re.IGNORECASE)
_ADDRESS = re.compile(r"[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+")


def reply_id(outgoing: Outgoing, mail: MailSettings) -> str:
    """The reply's Message-ID (without brackets), the same on every attempt: how the
    Sent folder is searched after a crash, and how a customer's answer finds the case."""
    key = re.sub(r"[^A-Za-z0-9._-]", "", outgoing.key) or f"reply-{outgoing.reply_id}"
    return f"{key}@{mail.domain}"


def subject_of(context: dict) -> str:
    subject = " ".join(str(context.get("subject") or "").split())
    while _REPLY_PREFIX.match(subject):  # "Re: Re: RE:" becomes one "Re:"
        subject = _REPLY_PREFIX.sub("", subject, count=1)
    return f"Re: {subject or 'your message'}"


def compose(outgoing: Outgoing, mail: MailSettings) -> EmailMessage:
    # Where the customer's message asked answers to go (a web form's mailer, an
    # assistant writing for someone), else to its sender.
    recipient = str(outgoing.context.get("reply_to") or outgoing.recipient).strip()
    if not _ADDRESS.fullmatch(recipient):
        raise DeliveryError(f"{recipient[:80]!r} is not an e-mail address to reply to",
                            retryable=False)
    message = EmailMessage()
    message["From"] = formataddr((mail.display_name, mail.address))
    message["To"] = recipient
    message["Subject"] = subject_of(outgoing.context)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{reply_id(outgoing, mail)}>"
    answered = message_id(outgoing.in_reply_to)
    if answered:
        message["In-Reply-To"] = f"<{answered}>"
        earlier = [message_id(r) for r in outgoing.context.get("references") or []
                   if isinstance(r, str)]
        chain = [r for r in earlier if r and r != answered][-(MAX_REFERENCES - 1):]
        message["References"] = " ".join(f"<{r}>" for r in [*chain, answered])
    message.set_content(outgoing.text)
    return message


def send(message: EmailMessage, server: Server, sender: str, timeout: float) -> None:
    """Hand the message to the SMTP server; DeliveryError saying why it did not take it."""
    where = f"{server.host}:{server.port}"
    recipient = message["To"]
    try:
        token, kept = server.oauth.access_token() if server.oauth else ("", False)
    except ConnectorError as e:
        raise DeliveryError(str(e), retryable=e.kind == ConnectorError.RETRYABLE) from e
    try:
        if server.security == "ssl":
            client = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with client:
            if server.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if server.oauth:
                client.ehlo_or_helo_if_needed()
                # On a refusal the server may first send a challenge (Gmail does): it
                # is answered with nothing, and the server then says 535.
                client.auth("XOAUTH2", lambda challenge=None: xoauth2(server.username, token)
                            if challenge is None else "")
            elif server.username and server.password:
                client.login(server.username, server.password)
            client.send_message(message, from_addr=sender, to_addrs=[recipient])
    except smtplib.SMTPAuthenticationError as e:
        refusal = server.refused(token, kept, _said(e))
        raise DeliveryError(str(refusal), retryable=refusal.kind == ConnectorError.RETRYABLE) \
            from e
    except smtplib.SMTPRecipientsRefused as e:
        code, said = next(iter(e.recipients.values()))
        raise DeliveryError(f"{server.host} refused the recipient {recipient}: {code} "
                            f"{_text(said)}", retryable=code < 500) from e
    except smtplib.SMTPNotSupportedError as e:
        raise DeliveryError(f"{where}: {e} (check smtp_security)", retryable=False) from e
    except smtplib.SMTPResponseException as e:  # sender refused, data refused, …
        raise DeliveryError(f"{server.host} did not take the message: {_said(e)}",
                            retryable=e.smtp_code < 500) from e
    except ssl.SSLCertVerificationError as e:
        raise DeliveryError(f"{where}: the server's certificate is not trusted: "
                            f"{e.verify_message}", retryable=False) from e
    except (smtplib.SMTPException, OSError) as e:
        # Refused connections, timeouts, dropped sessions: the server may be back soon.
        raise DeliveryError(f"cannot send through {where}: {str(e) or type(e).__name__}") from e


def _text(said) -> str:
    return said.decode(errors="replace") if isinstance(said, bytes) else str(said)


def _said(e: smtplib.SMTPResponseException) -> str:
    return f"{e.smtp_code} {_text(e.smtp_error)}"
