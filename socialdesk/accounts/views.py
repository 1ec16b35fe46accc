"""The person's own account: API tokens and password."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.views import PasswordChangeView
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from socialdesk.accounts.actions import (
    do_change_password,
    do_create_api_token,
    do_revoke_api_token,
)
from socialdesk.accounts.forms import ApiTokenForm
from socialdesk.accounts.queries import access_api_token, tokens_of


@never_cache
@require_http_methods(["GET", "POST"])
def tokens_view(request):
    """The list and the form; a created token is shown on this one answer only (never
    stored, never put in a message or a redirect)."""
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    created = status = None
    if request.method == "POST":
        if form.is_valid():
            created = do_create_api_token(request.user, form.cleaned_data["name"],
                                          actor=request.user)
            form = ApiTokenForm()
            status = 201
        else:
            status = 422
    return render(request, "accounts/tokens.html", {
        "form": form, "tokens": tokens_of(request.user),
        "created": created[0] if created else None, "secret": created[1] if created else None,
    }, status=status)


@require_POST
def revoke_token_view(request, token_id: int):
    token = access_api_token(request.user, token_id)
    if do_revoke_api_token(token, actor=request.user):
        messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    else:
        messages.info(request, f"Token “{token.name}” was revoked already.")
    return redirect("account:tokens")


class PasswordView(PasswordChangeView):
    """Django's page (the old password, then the new one twice, checked by the
    AUTH_PASSWORD_VALIDATORS); the change itself is an action with its audit event."""

    template_name = "accounts/password.html"
    success_url = reverse_lazy("account:password")

    def form_valid(self, form):
        do_change_password(self.request.user, form.cleaned_data["new_password1"])
        # This session stays logged in; the user's other sessions end.
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, "Your password was changed.")
        return redirect(self.get_success_url())

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 422
        return response
