from functools import wraps

from django.http import JsonResponse
from ninja.security import HttpBearer

from socialdesk.accounts.queries import user_for_api_token


class TokenAuth(HttpBearer):
    """`Authorization: Bearer sdk_...`, a per-user token stored only as a hash."""

    def authenticate(self, request, token):
        user = user_for_api_token(token)
        if user is not None:
            request.user = user
        return user


def docs_access(view):
    """The OpenAPI document and its viewer: for a logged-in person or a token holder."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        header = request.headers.get("Authorization", "")
        token_user = (user_for_api_token(header[7:].strip())
                      if header.lower().startswith("bearer ") else None)
        if not request.user.is_authenticated and token_user is None:
            return JsonResponse({"detail": "Unauthorized"}, status=401)
        return view(request, *args, **kwargs)

    return wrapped
