"""YouTube: comments on the brand's videos."""

from socialdesk.connectors.channels import Channel

CHANNEL = Channel(
    name="youtube", label="YouTube", badge="YT", order=70,
    public_limit=10_000,  # a comment's length limit
    private_messages=False,  # YouTube has no messages between channels and people
    # The channel owner may hold a comment for review or reject it
    # (YouTube Data API, comments.setModerationStatus).
    can_hide=True,
    profile_pattern="https://www.youtube.com/@{handle}",
    threading="top-level comments on a video, and replies one level below them",
)
