from django import forms
from django.contrib import admin

from socialdesk.accounts.models import Team
from socialdesk.accounts.orgchart import check_sla
from socialdesk.cases.actions import ActionError
from socialdesk.cases.models import SavedReply, SlaPolicy
from socialdesk.cases.queries import is_admin
from socialdesk.cases.saved_replies import (
    VARIABLES,
    check_text,
    do_delete_saved_reply,
    do_save_saved_reply,
)


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


class SavedReplyForm(forms.ModelForm):
    """A variable the desk does not know is refused here, not sent to a customer."""

    class Meta:
        model = SavedReply
        fields = ["name", "text", "channel", "lang", "team", "is_active"]
        help_texts = {
            "text": "Variables: " + "; ".join(f"{{{name}}}: {what}"
                                             for name, what in VARIABLES.items())
                    + ". Write {{ and }} for a literal brace.",
            "channel": "e.g. x, facebook, email; empty: every channel",
            "lang": "e.g. en, pt; empty: every language",
            "team": "Empty: every team",
        }

    def clean_text(self):
        try:
            return check_text(self.cleaned_data["text"])
        except ActionError as e:
            raise forms.ValidationError(str(e)) from None


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    form = SavedReplyForm
    list_display = ("name", "team", "channel", "lang", "is_active", "updated_at")
    list_filter = ("is_active", "team", "channel", "lang")
    search_fields = ("name", "text")
    list_select_related = ("team",)

    def save_model(self, request, obj, form, change):
        # Through the action: it checks the text again and writes the audit event.
        do_save_saved_reply(obj, request.user)

    def delete_model(self, request, obj):
        do_delete_saved_reply(obj, request.user)

    def delete_queryset(self, request, queryset):
        for saved in queryset:
            do_delete_saved_reply(saved, request.user)

    # Admins keep every team's saved replies here; supervisors theirs at /saved-replies/.
    def has_add_permission(self, request):
        return is_admin(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_admin(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_admin(request.user) and super().has_delete_permission(request, obj)
