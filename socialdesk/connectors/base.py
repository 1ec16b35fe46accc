"""The interface every channel connector implements for outgoing replies."""

from dataclasses import dataclass
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
