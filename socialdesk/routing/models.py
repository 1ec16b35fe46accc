from django.db import models


class RoutingRule(models.Model):
    """An ordered rule: when its conditions hold, the case goes to its team.

    Conditions are the same small language the routing engine evaluates
    without a database (see routing/rules.py); first match wins.
    """

    position = models.PositiveIntegerField()
    name = models.SlugField(max_length=64, unique=True)
    when = models.JSONField(default=dict, blank=True)
    team = models.SlugField(max_length=64)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.name} → {self.team}"


class RoutingSettings(models.Model):
    """The desk's routing settings: one row, written by the org chart import or
    the admin. Without it the packaged defaults (routing/default_rules.yaml) hold."""

    # The team that takes `account_owner` cases whose contact has no owner.
    fallback = models.SlugField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "routing settings"

    def __str__(self) -> str:
        return f"fallback team {self.fallback}"


def fallback_team() -> str:
    from socialdesk.routing.rules import default_rules

    stored = RoutingSettings.objects.values_list("fallback", flat=True).first()
    return stored or default_rules().fallback
