"""The brand's channel accounts in the desk: admins connect one, check it, fetch
now, pause, resume and remove it, and sign in at its provider's page where it
signs in with OAuth (connectors.accounts does each)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from socialdesk.cases.queries import is_admin
from socialdesk.connectors import accounts, channels, listening
from socialdesk.connectors.accounts import AccountError, Kind
from socialdesk.connectors.models import ChannelAccount
from socialdesk.connectors.watching import watch_of

DENIED = "Only admins connect and change the brand's channel accounts; ask an admin."
SECRET_KEPT = "Stored, and never shown again: leave empty to keep it."


class AccountForm(forms.Form):
    """The fields every account has, then its connector's settings."""

    channel = forms.ChoiceField(label="Channel")
    handle = forms.CharField(max_length=255, label="Handle or address",
                             help_text="The brand's account on the channel, as posts name it")
    name = forms.CharField(max_length=255, required=False, label="Name shown to agents")
    poll_seconds = forms.IntegerField(
        label="Fetch every (seconds)", initial=60, min_value=accounts.MIN_POLL_SECONDS,
        max_value=accounts.MAX_POLL_SECONDS)
    unchecked = forms.BooleanField(
        required=False, label="Save even if the connection does not work yet",
        help_text="The desk keeps trying on the clock and shows the error here.")

    def __init__(self, kind: Kind, *args, account: ChannelAccount | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [(name, channels.channel(name).label)
                                          for name in kind.channels]
        if account is not None:  # the channel and handle name the account: fixed
            del self.fields["channel"], self.fields["handle"]
        stored = account.secrets() if account is not None else {}
        for setting in kind.settings:
            self.fields[f"s_{setting.name}"] = _field(setting, kept=setting.name in stored)


def _field(setting, kept: bool) -> forms.Field:
    help_text = " ".join(filter(None, [setting.help, SECRET_KEPT if kept else ""]))
    common = {"label": setting.label, "help_text": help_text, "initial": setting.default or None,
              "required": setting.required and not kept and setting.kind != "bool"}
    if setting.kind == "bool":
        return forms.BooleanField(**common)
    if setting.kind == "number":
        return forms.IntegerField(**common)
    if setting.secret:
        return forms.CharField(widget=forms.PasswordInput(render_value=False), strip=False,
                               max_length=4096, **common)
    return forms.CharField(max_length=2000, **common)


def _given(form: AccountForm) -> dict:
    return {name[2:]: value for name, value in form.cleaned_data.items()
            if name.startswith("s_")}


def _initial(account: ChannelAccount, kind: Kind) -> dict:
    initial = {"name": account.name, "poll_seconds": account.poll_seconds}
    for setting in kind.settings:
        value = account.config.get(setting.name)
        if not setting.secret and value is not None:
            initial[f"s_{setting.name}"] = (", ".join(value) if isinstance(value, list)
                                            else value)
    return initial


def _denied(request):
    return render(request, "web/channel_accounts.html", {"denied": DENIED}, status=403)


def _kind(name: str) -> Kind:
    found = accounts.kind_named(name)
    if found is None:
        raise Http404("no such connector")
    return found


def channel_accounts_view(request):
    if not is_admin(request.user):
        return _denied(request)
    rows = ChannelAccount.objects.order_by("channel", "handle")
    return render(request, "web/channel_accounts.html",
                  {"rows": rows, "kinds": accounts.kinds().values()})


@require_http_methods(["GET", "POST"])
def channel_account_connect_view(request, kind: str):
    if not is_admin(request.user):
        return _denied(request)
    kind = _kind(kind)
    form = AccountForm(kind, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account, said = accounts.do_connect_account(
                kind=kind, channel=data["channel"], handle=data["handle"], name=data["name"],
                given=_given(form), poll_seconds=data["poll_seconds"], actor=request.user,
                unchecked=data["unchecked"])
        except AccountError as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, f"{account} connected: {said}")
            return redirect("web:channel_account", account.pk)
    return render(request, "web/channel_account.html", {"kind": kind, "form": form},
                  status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def channel_account_view(request, account_id: int):
    if not is_admin(request.user):
        return _denied(request)
    account = get_object_or_404(ChannelAccount, pk=account_id)
    kind = accounts.kind_of(account)
    form = None
    if kind is not None:
        form = AccountForm(kind, request.POST or None, account=account,
                           initial=_initial(account, kind))
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            said = accounts.do_update_account(
                account, name=data["name"], given=_given(form),
                poll_seconds=data["poll_seconds"], actor=request.user,
                unchecked=data["unchecked"])
        except AccountError as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, f"{account} saved: {said}")
            return redirect("web:channel_account", account.pk)
    failed = request.method == "POST" and (form is None or form.errors)
    return render(request, "web/channel_account.html",
                  {"account": account, "kind": kind, "form": form, "watched": _watched(account),
                   "signs_in": accounts.offers_sign_in(account)},
                  status=422 if failed else 200)


def _watched(account: ChannelAccount) -> str:
    """How the platform tells the desk of new posts, where it is watched
    (connectors.watching); "" where the account is only polled."""
    listener = watch_of(account) if settings.WATCH_ACCOUNTS else None
    return listener.watched_by if listener else ""


@require_POST
def channel_account_action_view(request, account_id: int):
    if not is_admin(request.user):
        return _denied(request)
    account = get_object_or_404(ChannelAccount, pk=account_id)
    action = request.POST.get("action")
    if action == "check":
        ok, said = listening.check_account(account)
        (messages.success if ok else messages.error)(request, f"{account}: {said}")
    elif action == "fetch":
        ok, said = listening.fetch_now(account)
        (messages.success if ok else messages.error)(request, said)
    elif action == "pause":
        accounts.do_pause_account(account, request.user)
        messages.success(request, f"{account} paused: no posts are fetched until it is "
                                  "resumed; replies still go out.")
    elif action == "resume":
        accounts.do_resume_account(account, request.user)
        messages.success(request, f"{account} resumed: fetched at the next tick.")
    elif action == "sign_in":
        try:
            url, pending = accounts.do_start_sign_in(account, _signed_in_url())
        except AccountError as e:
            messages.error(request, f"{account}: {e}")
        else:
            request.session[SIGN_IN_KEY + pending["state"]] = pending
            return redirect(url)
    elif action == "remove":
        accounts.do_remove_account(account, request.user)
        messages.success(request, f"{account} removed, with its credentials; its posts "
                                  "and cases stay.")
        return redirect("web:channel_accounts")
    else:
        messages.error(request, "Choose check, fetch, sign in, pause, resume or remove.")
    return redirect("web:channel_account", account.pk)


SIGN_IN_KEY = "sign-in:"


def _signed_in_url() -> str:
    """Where the provider sends the admin back: registered with the app at the provider."""
    return settings.SITE_URL.rstrip("/") + reverse("web:channel_account_signed_in")


@require_GET
def channel_account_signed_in_view(request):
    """The provider's page sends the admin back here, with a code or an error."""
    if not is_admin(request.user):
        return _denied(request)
    state = request.GET.get("state", "")
    pending = request.session.pop(SIGN_IN_KEY + state, None) if state else None
    if not isinstance(pending, dict):
        messages.error(request, "That sign-in was not started from this desk in this browser, "
                                "or was finished already: start it again from the account's page.")
        return redirect("web:channel_accounts")
    if error := request.GET.get("error"):
        said = request.GET.get("error_description") or ""
        messages.error(request, f"The provider did not sign you in: {error[:100]}"
                                f"{': ' + said[:300] if said else ''}")
        return redirect("web:channel_account", pending["account"])
    try:
        account, said = accounts.do_finish_sign_in(pending, request.GET.get("code", ""),
                                                   actor=request.user)
    except AccountError as e:
        messages.error(request, str(e))
        if ChannelAccount.objects.filter(pk=pending["account"]).exists():
            return redirect("web:channel_account", pending["account"])
        return redirect("web:channel_accounts")
    messages.success(request, f"{account} signed in: {said}")
    return redirect("web:channel_account", account.pk)

