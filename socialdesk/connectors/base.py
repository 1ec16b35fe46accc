"""The interface every channel connector implements for outgoing replies."""

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


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


@dataclass
class Fetched:
    """What one fetch of a listener found."""

    records: list  # ingestion.records.Record, checked
    checkpoint: dict  # where the next fetch starts
    # Items that could not be read as posts: (where, why).
    rejected: list[tuple[str, str]] = field(default_factory=list)
    more: bool = False  # more is waiting now (the next page, the rest of a file)


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
    """A connector that hears posts: one fetch from where the checkpoint says."""

    name: str

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
    """Delivery failed; `retryable` says whether trying again may help."""

    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class Connector(Protocol):
    name: str

    def deliver(self, outgoing: Outgoing) -> Delivered: ...


@runtime_checkable
class FindsReplies(Protocol):
    """A connector that can look a reply up on the platform by its key.

    After a sender died between sending and recording, this tells "sent" from
    "not sent". With a connector that cannot, the reply is marked "delivery
    uncertain" for a person to decide.
    """

    def find_delivered(self, outgoing: Outgoing) -> Delivered | None:
        """The reply as the platform has it, or None when it has no such reply."""
        ...
