from django.contrib import admin, messages
from django.utils import timezone

from socialdesk.connectors import listening
from socialdesk.connectors.models import ChannelAccount, WebhookSource


@admin.register(ChannelAccount)
class ChannelAccountAdmin(admin.ModelAdmin):
    list_display = ("channel", "handle", "name", "delivery", "listener", "is_active",
                    "last_polled_at", "error_kind")
    list_filter = ("channel", "listener", "is_active", "error_kind")
    readonly_fields = ("checkpoint", "last_polled_at", "next_poll_at", "last_error",
                       "error_kind")
    actions = ["check_connection", "fetch_now"]

    @admin.action(description="Check connection")
    def check_connection(self, request, queryset):
        for account in queryset.exclude(listener=""):
            ok, said = listening.check_account(account)
            self.message_user(request, f"{account}: {said}",
                              messages.SUCCESS if ok else messages.ERROR)

    @admin.action(description="Fetch now")
    def fetch_now(self, request, queryset):
        for account in queryset.exclude(listener=""):
            ok, said = listening.fetch_now(account)
            self.message_user(request, said, messages.SUCCESS if ok else messages.ERROR)

    def save_model(self, request, obj, form, change):
        # Saved by an admin, who may have fixed what stopped it: fetched at the next tick.
        if obj.listener and obj.is_active:
            obj.next_poll_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(WebhookSource)
class WebhookSourceAdmin(admin.ModelAdmin):
    """Listed and paused here; added, rotated and removed with `socialdesk webhook`, which
    shows a new secret once."""

    list_display = ("slug", "name", "is_active", "created_at", "last_used_at")
    fields = ("slug", "name", "is_active", "created_at", "last_used_at")
    readonly_fields = ("slug", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False
