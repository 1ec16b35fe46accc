from functools import wraps

from django.http import JsonResponse
from ninja.security import HttpBearer

from socialdesk.accounts import throttle
from socialdesk.accounts.queries import user_for_api_token


class TokenThrottled(Exception):
    def __init__(self, lockout: throttle.Lockout):
        super().__init__(lockout.message)
        self.lockout = lockout

    def response(self, response):
        """The 429 response, told when to try again."""
        response["Retry-After"] = str(self.lockout.seconds_left())
        return response


def token_user(request, token: str):
    """The user of a valid token, whatever others sent from the same address: the token
    is looked up before anything else. One that matches nothing counts against the
    address it came from (accounts.throttle); once that address is locked out, bad
    tokens from it raise TokenThrottled, without another row written."""
    user = user_for_api_token(token)
    if user is not None:
        return user
    ip = throttle.client_ip(request)
    lockout = (throttle.current_lockout(throttle.TOKEN, "", ip)
               or throttle.do_record_failure(throttle.TOKEN, "", ip))
    if lockout is not None:
        raise TokenThrottled(lockout)
    return None


class TokenAuth(HttpBearer):
    """`Authorization: Bearer sdk_...`, a per-user token stored only as a hash."""

    def authenticate(self, request, token):
        user = token_user(request, token)  # TokenThrottled: 429 by the API's handler
        if user is not None:
            request.user = user
        return user


def docs_access(view):
    """The OpenAPI document and its viewer: for a logged-in person or a token holder."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            header = request.headers.get("Authorization", "")
            try:
                token_holder = (token_user(request, header[7:].strip())
                                if header.lower().startswith("bearer ") else None)
            except TokenThrottled as e:
                return e.response(JsonResponse({"detail": str(e)}, status=429))
            if token_holder is None:
                return JsonResponse({"detail": "Unauthorized"}, status=401)
        return view(request, *args, **kwargs)

    return wrapped
