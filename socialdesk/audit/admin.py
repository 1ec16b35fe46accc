from django.contrib import admin

from socialdesk.audit.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("at", "verb", "actor", "case")
    list_filter = ("verb",)
    readonly_fields = ("at", "verb", "actor", "case", "data")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
