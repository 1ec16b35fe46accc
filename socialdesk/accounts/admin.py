from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db.models import Count

from socialdesk.accounts.actions import do_revoke_api_token
from socialdesk.accounts.models import ApiToken, BusinessCalendar, LoginAttempt, Team, User
from socialdesk.accounts.orgchart import TAGS, check_tags


class DeskUserChangeForm(UserChangeForm):
    """Skills, languages and channels are matched as written by routing, so they are
    checked as `socialdesk org import` checks them."""

    class Meta(UserChangeForm.Meta):
        model = User

    def _clean_tags(self, name: str) -> list:
        value = self.cleaned_data.get(name)
        if value is None:
            value = []
        problem = check_tags(name, value)
        if problem:
            raise forms.ValidationError(f"{name}{'' if problem[0] == '[' else ' '}{problem}")
        return value

    def clean_skills(self):
        return self._clean_tags("skills")

    def clean_languages(self):
        return self._clean_tags("languages")

    def clean_channels(self):
        return self._clean_tags("channels")


@admin.register(User)
class DeskUserAdmin(UserAdmin):
    form = DeskUserChangeForm
    list_display = ("username", "get_full_name", "role", "availability", "capacity", "is_active")
    list_filter = ("role", "availability", "teams", "is_active")
    fieldsets = (*UserAdmin.fieldsets,
                 ("Desk", {"fields": ("role", "teams", "capacity", "availability", *TAGS,
                                      "working_hours")}))
    filter_horizontal = ("teams", "groups", "user_permissions")


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    """Hours and holidays are checked by the model's clean(), which builds the calendar
    the SLA clocks will use; a spec it cannot build is shown as the form's error."""

    list_display = ("name", "slug", "timezone", "always_open", "holiday_count")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "slug")

    @admin.display(boolean=True, description="24/7")
    def always_open(self, obj):
        return obj.hours is None

    @admin.display(description="holidays")
    def holiday_count(self, obj):
        return len(obj.holidays or [])


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "slug", "parent", "supervisor", "calendar", "strategy",
                  "reassign_after_minutes"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        seen, team = set(), parent
        # The escalation chain walks up the parents: it must end.
        while team is not None and team.pk not in seen:
            if self.instance.pk and team.pk == self.instance.pk:
                raise forms.ValidationError(f"{parent} is this team or one of its sub-teams; "
                                            "the parent chain would go round in a circle")
            seen.add(team.pk)
            team = team.parent
        return parent


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamForm
    list_display = ("name", "slug", "parent", "supervisor", "strategy", "calendar",
                    "reassign_after_minutes", "member_count")
    list_filter = ("strategy", "calendar")
    list_select_related = ("parent", "supervisor", "calendar")
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "slug")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Each person creates their own tokens (shown once, on their API tokens page, or by
    `socialdesk token`); here admins review everyone's and revoke them."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at",
                       "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        revoked = sum(do_revoke_api_token(token, actor=request.user)
                      for token in queryset.select_related("user"))
        self.message_user(request, f"{revoked} token{'s' if revoked != 1 else ''} revoked.",
                          messages.SUCCESS)


@admin.register(LoginAttempt)
class LoginAttemptAdmin(admin.ModelAdmin):
    """Failed logins and lockouts, as the throttle counts them. Deleting a lockout
    lifts it at once."""

    list_display = ("at", "kind", "username", "ip", "scope", "until", "counts_for_user")
    list_filter = ("kind", "scope")
    search_fields = ("username", "ip")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
