from django.conf import settings
from django.db import models


class ResponsePolicy(models.Model):
    """A version of the response matrix, kept as the YAML an admin wrote.

    Versions are never edited in place: a change is a new version, so every
    stored decision can name the policy that made it.
    """

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=120)
    source = models.TextField(help_text="The policy as YAML")
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-version"]
        verbose_name_plural = "response policies"

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Triage(models.Model):
    """What the desk decided about one inbound post, and why."""

    post = models.OneToOneField(
        "ingestion.Post", primary_key=True, on_delete=models.CASCADE, related_name="triage"
    )
    lang = models.CharField(max_length=16, blank=True)
    sentiment = models.CharField(max_length=8)
    sentiment_score = models.FloatField()
    category = models.CharField(max_length=16)
    decision = models.CharField(max_length=16)
    severity = models.PositiveSmallIntegerField()
    priority = models.CharField(max_length=2)
    reply_mode = models.CharField(max_length=24)
    owner_team = models.CharField(max_length=64)
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    # The model's probabilities behind `sentiment`: {"negative": p, "neutral": p, "positive": p}.
    sentiment_probs = models.JSONField(default=dict)
    # Every category that applies, most important first (a complaint can also be
    # abusive), each with the model score or rule that put it there.
    labels = models.JSONField(default=list)
    # Brand topics matched: [{"topic": slug, "by": "keyword 'refund'"}].
    topics = models.JSONField(default=list)
    # What was known about the author when the post was judged: followers,
    # tier, account owner, repeat poster.
    author = models.JSONField(default=dict)
    cues = models.JSONField(default=list)
    reasons = models.JSONField(default=list)
    policy_version = models.PositiveIntegerField()
    model_version = models.CharField(max_length=32)
    # Which tier judged the post: "fast", or "accurate" where the cascade asked it.
    model_tier = models.CharField(max_length=16, default="fast")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when an agent corrected any field; the Correction rows keep what the
    # desk had decided and who changed it.
    corrected_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.post_id}: {self.category}/{self.decision}/{self.priority}"


class Correction(models.Model):
    """An agent's correction of a triage field: a label for training, with who and when.

    The Triage row carries the corrected value (metrics read decisions after any
    human override); this row keeps what the desk had said before.
    """

    class Field(models.TextChoices):
        CATEGORY = "category", "Category"
        SENTIMENT = "sentiment", "Sentiment"
        DECISION = "decision", "Decision"

    post = models.ForeignKey("ingestion.Post", on_delete=models.CASCADE,
                             related_name="corrections")
    field = models.CharField(max_length=16, choices=Field.choices)
    value = models.CharField(max_length=16)
    previous = models.CharField(max_length=16)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["field", "created_at"])]

    def __str__(self) -> str:
        return f"{self.post_id}: {self.field} {self.previous} → {self.value}"


class Topic(models.Model):
    """A subject the brand cares about (billing, delivery, a product line), found
    by its keywords and by likeness to a handful of example posts. Routing rules
    and policy conditions name topics by slug."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    keywords = models.TextField(blank=True, help_text="One word or phrase per line")
    examples = models.TextField(blank=True, help_text="One example post per line")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class VolumeCount(models.Model):
    """Posts on one subject in one quarter hour, by the posts' own time: what volume
    spikes are measured against (triage/spikes.py).

    `key` is "topic:<slug>", "cue:<name>" or "all" (every counted post, which
    tells how far back counting goes). Rows are added to with one upsert per
    batch and pruned once older than any policy's window and baseline.
    """

    key = models.CharField(max_length=80)
    bucket_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "bucket_start"],
                                               name="uniq_volume_key_bucket")]
        indexes = [models.Index(fields=["bucket_start"])]

    def __str__(self) -> str:
        return f"{self.key} {self.bucket_start:%Y-%m-%d %H:%M}: {self.count}"
