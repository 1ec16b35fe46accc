from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import reverse

from socialdesk.accounts import throttle
from socialdesk.accounts.forms import LockedOutLoginForm

# Paths that answer without a session: the login page, static files, and the
# API, which authenticates every request with a token of its own.
PUBLIC_PREFIXES = ("/login/", "/static/", "/api/", "/healthz")


class LoginRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not request.user.is_authenticated and not path.startswith(PUBLIC_PREFIXES):
            return redirect_to_login(request.get_full_path(), reverse(settings.LOGIN_URL))
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """No inline script, no third-party origin: hostile post text cannot run."""

    POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path_info.startswith("/api/") or request.path_info.endswith("/docs"):
            response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response


class TrustedProxyMiddleware:
    """X-Forwarded-* headers count only on a request from one of TRUSTED_PROXY_ADDRESSES;
    from anyone else they are dropped. First in MIDDLEWARE, so that Django never takes
    a client's own X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER) for a proxy's word that
    the request came over https. The throttle reads X-Forwarded-For under the same rule
    by itself (accounts.throttle.client_ip)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not throttle.from_trusted_proxy(request):
            for name in [name for name in request.META if name.startswith("HTTP_X_FORWARDED_")]:
                del request.META[name]
        return self.get_response(request)


class LoginThrottleMiddleware:
    """A login (the desk's or the admin site's) that a lockout refuses is answered 429
    with the login form saying why and for how long, before the password is checked; so
    is a failure after which the next try would be refused. A lockout covers a username
    from one address (accounts.throttle): failures for other usernames never refuse a
    right password. Counting and the refusal itself are the authentication backend's
    (accounts.backends), which every password check passes."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._login_paths: frozenset[str] | None = None

    def login_paths(self) -> frozenset[str]:
        if self._login_paths is None:  # not in __init__: the URLconf may not be loaded yet
            self._login_paths = frozenset((reverse(settings.LOGIN_URL), reverse("admin:login")))
        return self._login_paths

    def __call__(self, request):
        if request.method != "POST" or request.path_info not in self.login_paths():
            return self.get_response(request)
        lockout = throttle.current_lockout(throttle.LOGIN, request.POST.get("username", ""),
                                           throttle.client_ip(request))
        if lockout is None:
            response = self.get_response(request)
            lockout = getattr(request, "login_lockout", None)
            if lockout is None:
                return response
        response = render(request, "web/login.html", {
            "form": LockedOutLoginForm(request, lockout, data=request.POST),
            "next": request.POST.get("next", ""),
        }, status=429)
        response["Retry-After"] = str(lockout.seconds_left())
        return response
