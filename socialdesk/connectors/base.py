"""The interface a channel connector implements: hearing posts (a Listener),
delivering replies (a Connector), and what they share.

A connector is one class in its own package (connectors/email, connectors/mastodon,
…), named in connectors.registry. Every method is given the ChannelAccount it
acts for: its `config` (settings that are not secret), its `secrets()` (the
credentials, decrypted) and its `handle`. A connector keeps no state between
calls; the account's checkpoint is where a listener's position is kept.

What a listener stores in a record's `extra` comes back, when a reply answers
that post, as `Outgoing.context`: the platform's own references a reply needs
(an e-mail's subject and References, a Bluesky post's root and CID).
"""

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Setting:
    """One setting a connector needs for an account, as the desk's connect form asks
    for it. A secret one is kept encrypted (ChannelAccount.secrets) and never shown
    again; the others are kept in ChannelAccount.config."""

    name: str
    label: str
    help: str = ""
    secret: bool = False
    required: bool = True
    default: str = ""
    # "text", "number", "bool" or "list" (comma-separated, kept as a list).
    kind: str = "text"


@dataclass(frozen=True)
class Outgoing:
    """What a connector needs to post one reply."""

    reply_id: int
    channel: str
    text: str
    visibility: str
    in_reply_to: str  # the external id of the post answered
    recipient: str  # the customer's handle on the channel
    case_ref: str
    # The reply's idempotency key: the same for every attempt (Reply.delivery_key).
    key: str = ""
    # A message tag the platform needs to let the reply through ("human_agent":
    # Meta's, past the 24-hour window; cases.windows).
    tag: str = ""
    # The `extra` the listener stored with the post answered (the post's raw).
    context: dict = field(default_factory=dict, hash=False)


@dataclass
class Fetched:
    """What one fetch of a listener found."""

    records: list  # ingestion.records.Record, checked
    checkpoint: dict  # where the next fetch starts
    # Items that could not be read as posts: (where, why).
    rejected: list[tuple[str, str]] = field(default_factory=list)
    more: bool = False  # more is waiting now (the next page, the rest of a file)
    # The platform's reports that a reply of ours did not reach its recipient (an
    # e-mail bounce): (the reply's external id, the platform's reason).
    undelivered: list[tuple[str, str]] = field(default_factory=list)


class ConnectorError(Exception):
    """A fetch that failed, classified by what helps: waiting (retryable), new
    credentials (reauthorise), or someone changing the settings (permanent). The
    message is the platform's, shown to the admin."""

    RETRYABLE = "retryable"
    REAUTHORISE = "reauthorise"
    PERMANENT = "permanent"

    def __init__(self, message: str, kind: str = RETRYABLE, retry_after: float | None = None):
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after  # seconds, when the platform says (rate limits)


class Listener(Protocol):
    """A connector that hears posts: one fetch from where the checkpoint says.

    For the desk's connect page it also says what it is (`label`), which channels
    it serves (`channels`, empty: any) and what it needs (`settings`)."""

    name: str
    label: str
    channels: tuple[str, ...]
    settings: tuple[Setting, ...]

    def fetch(self, account, checkpoint: dict, limit: int) -> Fetched: ...

    def check(self, account) -> str:
        """Who or what the desk is on the platform with these settings, in words;
        ConnectorError when it cannot get there."""
        ...


@dataclass(frozen=True)
class Delivered:
    external_id: str
    url: str = ""


class DeliveryError(Exception):
    """Delivery failed; `retryable` says whether trying again may help, and
    `retry_after` how long the platform asked us to wait (a rate limit)."""

    def __init__(self, message: str, retryable: bool = True, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Connector(Protocol):
    """A connector that delivers replies from an account."""

    name: str

    def deliver(self, account, outgoing: Outgoing) -> Delivered:
        """Post the reply; DeliveryError when the platform did not take it."""
        ...


@runtime_checkable
class FindsReplies(Protocol):
    """A connector that can look a reply up on the platform by its key.

    After a sender died between sending and recording, this tells "sent" from
    "not sent". With a connector that cannot, the reply is marked "delivery
    uncertain" for a person to decide.
    """

    def find_delivered(self, account, outgoing: Outgoing) -> Delivered | None:
        """The reply as the platform has it, or None when it has no such reply."""
        ...


@runtime_checkable
class Moderates(Protocol):
    """A connector that can hide or show again a person's comment, and delete the
    brand's own post (each where the channel's facts say the platform can)."""

    def moderate(self, account, action: str, channel: str, external_id: str) -> None:
        """Do `action` ("hide", "unhide" or "delete") to the post; DeliveryError when
        the platform refuses. Doing it twice must do no harm: a post already hidden
        or already deleted counts as done."""
        ...


@runtime_checkable
class Watches(Protocol):
    """A listener that can be told by the platform when something arrives (IMAP
    IDLE, a streaming API), so that the account is fetched at once rather than at
    its next poll. The fetch stays the listener's own: a watch only says when."""

    # How, for the account's page: "as soon as the server announces them, …".
    watched_by: str

    def watch(self, account, stopping, woke) -> None:
        """Hold a connection to the platform until `stopping` (a threading.Event)
        is set, calling `woke()` once on connecting (what arrived while nobody
        watched) and whenever the platform says something arrived. ConnectorError
        when the connection fails or the platform cannot be watched; the caller
        tries again later and polling goes on meanwhile."""
        ...
