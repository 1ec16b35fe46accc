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
