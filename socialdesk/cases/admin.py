from django import forms
from django.contrib import admin

from socialdesk.accounts.models import Team
from socialdesk.accounts.orgchart import check_sla
from socialdesk.cases.models import SlaPolicy


class SlaPolicyForm(forms.ModelForm):
    """Checked as `socialdesk org import` checks an SLA policy."""

    class Meta:
        model = SlaPolicy
        fields = ["position", "name", "priorities", "channels", "teams",
                  "first_response_minutes", "next_response_minutes", "resolution_minutes",
                  "warn_at_percent", "breach_actions", "enabled"]
        help_texts = {
            "priorities": 'e.g. ["P0", "P1"]; [] matches every priority',
            "channels": 'e.g. ["x", "email"]; [] matches every channel',
            "teams": 'Team slugs, e.g. ["care"]; [] matches every team',
            "breach_actions": "Any of: " + ", ".join(SlaPolicy.Action.values),
        }

    def clean(self):
        cleaned = super().clean()
        for name in ("priorities", "channels", "teams", "breach_actions"):
            if name in cleaned and cleaned[name] is None:
                cleaned[name] = []
        checked = [name for name in self.Meta.fields if name not in self.errors]
        problems = check_sla({name: cleaned.get(name) for name in checked if name in cleaned})
        for name, problem in problems.items():
            if name is None or name in checked:
                self.add_error(name, problem)
        teams = cleaned.get("teams")
        if "teams" not in problems and isinstance(teams, list) and teams:
            unknown = sorted(set(teams) - set(Team.objects.filter(slug__in=teams)
                                              .values_list("slug", flat=True)))
            if unknown:
                self.add_error("teams", f"{unknown[0]!r} is not a team")
        return cleaned


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """Policies are read by position, first match wins; minutes count business time in
    the case team's calendar."""

    form = SlaPolicyForm
    list_display = ("position", "name", "priorities", "channels", "teams",
                    "first_response_minutes", "next_response_minutes", "resolution_minutes",
                    "warn_at_percent", "enabled")
    list_display_links = ("name",)
    list_editable = ("enabled",)
    list_filter = ("enabled",)
