from django import forms
from django.contrib import admin

from socialdesk.accounts.models import Team
from socialdesk.lib import conditions
from socialdesk.routing.models import RoutingRule, RoutingSettings
from socialdesk.routing.rules import ACCOUNT_OWNER


class RoutingRuleForm(forms.ModelForm):
    """Checked as the routing engine will read the rule, so a saved rule always loads."""

    class Meta:
        model = RoutingRule
        fields = ["position", "name", "when", "team", "enabled"]
        help_texts = {
            "when": 'Conditions, all of which must hold, e.g. {"cues": ["legal"], '
                    '"decision": ["respond", "escalate"]}; {} matches every post.',
            "team": f"A team slug, or {ACCOUNT_OWNER} for the contact's account owner's team.",
        }

    def clean_when(self):
        when = self.cleaned_data.get("when")
        if when is None:
            when = {}
        name = self.cleaned_data.get("name") or self.data.get("name") or "this rule"
        try:
            conditions.parse(when, f"rule {name!r}")
        except conditions.ConditionError as e:
            raise forms.ValidationError(str(e)) from None
        return when

    def clean_team(self):
        team = self.cleaned_data.get("team")
        if team != ACCOUNT_OWNER and not Team.objects.filter(slug=team).exists():
            raise forms.ValidationError(f"{team!r} is not a team; give a team slug or "
                                        f"{ACCOUNT_OWNER}")
        return team


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Rules are read by position, first match wins; `socialdesk org import` replaces
    the whole list from a file."""

    form = RoutingRuleForm
    list_display = ("position", "name", "team", "conditions", "enabled")
    list_display_links = ("name",)
    list_editable = ("enabled",)
    list_filter = ("enabled", "team")

    @admin.display(description="when")
    def conditions(self, obj):
        try:
            return conditions.describe(obj.when)
        except conditions.ConditionError:
            return "(invalid)"


class RoutingSettingsForm(forms.ModelForm):
    class Meta:
        model = RoutingSettings
        fields = ["fallback"]
        help_texts = {"fallback": f"The team that takes {ACCOUNT_OWNER} cases whose contact "
                                  "has no account owner."}

    def clean_fallback(self):
        team = self.cleaned_data.get("fallback")
        if not Team.objects.filter(slug=team).exists():
            raise forms.ValidationError(f"{team!r} is not a team")
        return team


@admin.register(RoutingSettings)
class RoutingSettingsAdmin(admin.ModelAdmin):
    form = RoutingSettingsForm
    list_display = ("fallback", "updated_at")

    def has_add_permission(self, request):
        return not RoutingSettings.objects.exists()  # one row
