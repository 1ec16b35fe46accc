from django import forms
from django.contrib import admin, messages

from socialdesk.notifications.actions import do_retry_deliveries
from socialdesk.notifications.models import Notification, WebhookDelivery, WebhookEndpoint

MIN_SECRET_LENGTH = 16


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    # The secret is typed in, never shown again: a blank field on edit keeps it.
    secret = forms.CharField(
        required=False, strip=True, widget=forms.PasswordInput(render_value=False),
        help_text="Signs every call (HMAC-SHA256); give it to the receiver. "
                  "Leave blank to keep the current secret.")

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "events", "active"]
        help_texts = {"events": 'Event verbs to send, e.g. ["sla.breached"]; [] sends all.'}

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if not secret:
            if not self.instance.pk:
                raise forms.ValidationError("A new endpoint needs a secret.")
            return self.instance.secret
        if len(secret) < MIN_SECRET_LENGTH:
            raise forms.ValidationError(f"Use at least {MIN_SECRET_LENGTH} characters.")
        return secret

    def clean_events(self) -> list[str]:
        # A bare string would still "work": `verb in "sla.breached"` matches substrings.
        events = self.cleaned_data["events"]
        if events is None:
            return []
        if not isinstance(events, list) or not all(isinstance(e, str) and e.strip()
                                                   for e in events):
            raise forms.ValidationError('Give a list of event names, e.g. ["sla.breached"].')
        return list(dict.fromkeys(e.strip() for e in events))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "events", "active", "secret_hint", "created_at"]
    list_filter = ["active"]

    @admin.display(description="secret")
    def secret_hint(self, endpoint: WebhookEndpoint) -> str:
        return f"…{endpoint.secret[-4:]}" if endpoint.secret else "–"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "endpoint", "verb", "status", "attempts", "created_at",
                    "last_attempt_at", "delivered_at", "last_error"]
    list_filter = ["status", "endpoint", "verb"]
    list_select_related = ["endpoint"]
    actions = ["retry"]

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("notifications.change_webhookdelivery")

    @admin.action(description="Send the selected deliveries again (unless delivered)",
                  permissions=["retry"])
    def retry(self, request, queryset) -> None:
        count = do_retry_deliveries(queryset.values_list("pk", flat=True), actor=request.user)
        skipped = queryset.count() - count
        left = f"; {skipped} delivered or in flight, left alone." if skipped else "."
        self.message_user(request, f"{count} queued again{left}",
                          messages.SUCCESS if count else messages.WARNING)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "verb", "text", "case", "read_at"]
    list_filter = ["verb", ("read_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "case"]
    search_fields = ["text", "user__username"]
