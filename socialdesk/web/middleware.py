from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

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
