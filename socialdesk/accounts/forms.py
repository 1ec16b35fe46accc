from django import forms
from django.contrib.auth.forms import AuthenticationForm

from socialdesk.accounts.models import ApiToken
from socialdesk.accounts.throttle import Lockout


class LockedOutLoginForm(AuthenticationForm):
    """The login form as a lockout answers it: the password is not checked at all."""

    def __init__(self, request, lockout: Lockout, *args, **kwargs):
        self.lockout = lockout
        super().__init__(request, *args, **kwargs)

    def clean(self):
        raise forms.ValidationError(self.lockout.message, code="locked_out")


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=ApiToken._meta.get_field("name").max_length, label="Token name",
        widget=forms.TextInput(attrs={"aria-describedby": "name-help", "autocomplete": "off"}),
        help_text="What uses it, e.g. “CRM sync”; you will see it in the list.")
