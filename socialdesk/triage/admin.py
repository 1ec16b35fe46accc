from django.contrib import admin

from socialdesk.triage.models import ResponsePolicy


@admin.register(ResponsePolicy)
class ResponsePolicyAdmin(admin.ModelAdmin):
    """Policy versions are kept as written: a change is a new version, so the
    decisions stored under an old one can always be explained."""

    list_display = ("version", "name", "is_active", "created_at", "created_by")
    readonly_fields = ("version", "name", "source", "is_active", "created_at", "created_by")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
