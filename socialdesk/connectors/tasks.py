"""The connectors' tasks, where the workers look for them."""

from socialdesk.connectors.listening import poll_account

__all__ = ["poll_account"]
