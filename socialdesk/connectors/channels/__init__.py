"""What a channel is: one module per channel in this package, read by every app.

Each module here defines `CHANNEL`, a `Channel` with the platform's facts that
the desk acts on: how a channel is named and shown, how long a public reply
may be, whether the brand can write to a person privately and for how long
after their last message, what it may do to a comment, where a person's
profile is, how replies thread. Adding a channel is adding a module here;
nothing elsewhere names channels.

These are facts about the platforms, not settings: the sources are cited in
each module. This package imports nothing from Django, so that any module
(record validation included) can read it at import time.
"""

import importlib
import pkgutil
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

# The longest reply the desk accepts where the platform sets no short limit
# (private messages, e-mail).
NO_SHORT_LIMIT = 20_000


@dataclass(frozen=True)
class Channel:
    name: str  # as posts and accounts store it: "x", "mastodon", …
    label: str  # as people read it: "X", "Mastodon", …
    badge: str  # two characters or so, for the inbox
    # Characters a public reply may have; None: the channel has no public
    # thread, and the one private message does every step (e-mail).
    public_limit: int | None
    private_messages: bool
    # Characters a private message may have, where the platform sets a short
    # limit (None: NO_SHORT_LIMIT).
    private_limit: int | None = None
    # How long after a person's last message the brand may still write to them
    # privately (None: no window), and the longer window some messages may use
    # (e.g. Meta's human agent tag), with its name.
    reply_window: timedelta | None = None
    window_extension: timedelta | None = None
    window_extension_name: str = ""
    can_hide: bool = False  # hide a person's comment on the brand's own post
    can_delete_own: bool = True  # delete the brand's own reply
    # "{handle}" is replaced by the handle ("{user}" and "{server}" by the parts of
    # a "user@server" handle); "" when the channel has no profile page.
    profile_pattern: str = ""
    threading: str = ""  # how replies refer to what they answer, in words
    # Where the channel comes in lists (the inbox's filter, the demo).
    order: int = 100

    @property
    def public_replies(self) -> bool:
        return self.public_limit is not None

    def reply_limit(self, visibility: str) -> int:
        """The most characters a reply of this visibility may have."""
        if visibility == "public" and self.public_limit is not None:
            return self.public_limit
        if visibility == "private" and self.private_limit is not None:
            return self.private_limit
        return NO_SHORT_LIMIT

    def profile_url(self, handle: str) -> str:
        if not self.profile_pattern or not handle:
            return ""
        if "{server}" in self.profile_pattern:
            # A handle of the fediverse, "user@server": the profile is on that server.
            user, _, server = handle.partition("@")
            if not user or "@" in server or "." not in server:
                return ""
            return self.profile_pattern.format(user=quote(user, safe="._-"),
                                               server=quote(server, safe=".-"))
        return self.profile_pattern.format(handle=quote(handle, safe="._-@"))


def _discover() -> dict[str, Channel]:
    found = []
    for module in pkgutil.iter_modules(__path__):
        channel = getattr(importlib.import_module(f"{__name__}.{module.name}"), "CHANNEL", None)
        if not isinstance(channel, Channel):
            raise ImportError(f"{__name__}.{module.name} defines no CHANNEL")
        found.append(channel)
    names = [c.name for c in found]
    if len(set(names)) != len(names):
        raise ImportError(f"a channel is defined twice: {sorted(names)}")
    return {c.name: c for c in sorted(found, key=lambda c: (c.order, c.name))}


CHANNELS: dict[str, Channel] = _discover()
# The channel names a post or an account may have, in display order.
NAMES: tuple[str, ...] = tuple(CHANNELS)


def channel(name: str) -> Channel:
    """The channel's facts; a channel no module defines (a row from a desk that
    had one) gets cautious ones: no private messages, nothing hidden."""
    known = CHANNELS.get(name)
    if known is not None:
        return known
    return Channel(name=name, label=name, badge=name[:2].upper(), public_limit=NO_SHORT_LIMIT,
                   private_messages=False, can_delete_own=False)


def choices() -> list[tuple[str, str]]:
    """(name, label) of every channel, for forms."""
    return [(c.name, c.label) for c in CHANNELS.values()]
