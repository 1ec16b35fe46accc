"""The interface every channel connector implements for outgoing replies."""

from dataclasses import dataclass
from typing import Protocol


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
