from django.conf import settings
from django.db import models


class Post(models.Model):
    """One item seen on a channel, inbound (a customer's) or outbound (the brand's).

    Stored first, under its unique (channel, external_id), before any
    processing: an import or webhook that is replayed adds nothing.
    """

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        PRIVATE = "private", "Private"

    channel = models.CharField(max_length=32)
    external_id = models.CharField(max_length=255)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    visibility = models.CharField(max_length=8, choices=Visibility.choices)
    author = models.ForeignKey("contacts.Identity", on_delete=models.PROTECT, related_name="posts")
    text = models.TextField()
    created_at = models.DateTimeField()
    # The parent's external id as the channel gave it; `parent` is filled in
    # when the parent is (or later becomes) known.
    in_reply_to = models.CharField(max_length=255, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    url = models.URLField(max_length=2000, blank=True)
    # The brand's own account on the channel the post was addressed to or
    # seen on ("@kettleco_help", a page id); routing rules may match on it.
    account = models.CharField(max_length=255, blank=True)
    lang = models.CharField(max_length=16, blank=True)
    followers = models.PositiveBigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=32, default="import")
    # Sent by an automation (auto-reply, bot), not a person: excluded from
    # response metrics.
    is_automated = models.BooleanField(default=False)
    raw = models.JSONField(default=dict, blank=True)
    ingested_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Scale-out: when the post was last handed to the broker; the sweeper
    # re-queues posts never queued, or queued long ago and lost (pipeline.sweep).
    queued_at = models.DateTimeField(null=True, blank=True)
    # Why processing failed for this post alone (every other post of its batch
    # was processed); the sweeper leaves it, `socialdesk process --retry-failed`
    # tries again.
    process_error = models.TextField(blank=True, default="")
    # Indexed by (case, created_at) below.
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="posts",
        db_index=False,
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="uniq_post_external_id")
        ]
        indexes = [
            models.Index(fields=["channel", "in_reply_to"]),
            models.Index(fields=["case", "created_at"]),
            models.Index(fields=["created_at"]),
            # Finds the posts an interrupted run stored but did not process.
            models.Index(fields=["id"], condition=models.Q(processed_at__isnull=True),
                         name="post_unprocessed"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.external_id}"
