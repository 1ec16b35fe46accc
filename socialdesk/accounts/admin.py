from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from socialdesk.accounts.models import ApiToken, Team, User


@admin.register(User)
class DeskUserAdmin(UserAdmin):
    list_display = ("username", "get_full_name", "role", "availability", "capacity", "is_active")
    list_filter = ("role", "availability", "teams", "is_active")
    fieldsets = (*UserAdmin.fieldsets,
                 ("Desk", {"fields": ("role", "teams", "capacity", "availability")}))
    filter_horizontal = ("teams", "groups", "user_permissions")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created from the command line (shown once); here they can be reviewed."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False
