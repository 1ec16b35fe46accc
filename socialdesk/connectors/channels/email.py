"""E-mail: a mailbox the desk reads and answers from."""

from socialdesk.connectors.channels import Channel

CHANNEL = Channel(
    name="email", label="E-mail", badge="@", order=80,
    public_limit=None,  # no public thread: the one private message does every step
    private_messages=True,
    can_hide=False, can_delete_own=False,  # a sent message cannot be taken back
    threading="Message-ID, In-Reply-To and References headers",
)
