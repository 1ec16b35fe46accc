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
    cues = models.JSONField(default=list)
    reasons = models.JSONField(default=list)
    policy_version = models.PositiveIntegerField()
    model_version = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.post_id}: {self.category}/{self.decision}/{self.priority}"
