"""How large a request the API reads.

The batch endpoints take up to API_MAX_BATCH records of up to MAX_POST_CHARS
characters, far more than Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), which
stays the limit of every other endpoint and of the web pages. Their limit is
API_MAX_BODY_BYTES (settings.py says how it follows from the batch limit), and
their body is read only once the token is good: an anonymous client cannot make
the server hold a large body.
"""

from io import BytesIO

from django.conf import settings
from django.http import UnreadablePostError
from ninja.security.base import AuthBase

from socialdesk.accounts import throttle
from socialdesk.api import auth
from socialdesk.api.errors import BodyTooLarge
from socialdesk.connectors import webhook

# The url_name of each endpoint that takes a batch of records.
BATCH_ENDPOINTS = frozenset({"import_posts", "triage_posts"})


def is_batch_endpoint(request) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.url_name in BATCH_ENDPOINTS


def content_length(request) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def read_body(request, limit: int) -> None:
    """Read the body under `limit` bytes, where request.body would refuse anything past
    DATA_UPLOAD_MAX_MEMORY_SIZE; BodyTooLarge (413) beyond it, before reading."""
    if hasattr(request, "_body"):
        return
    if content_length(request) > limit:
        raise BodyTooLarge(limit)
    # What HttpRequest.body does, with this limit: keep the bytes where request.body
    # finds them, and a stream over them for anything that reads the request again.
    try:
        body = request.read()
    except OSError as e:
        raise UnreadablePostError(*e.args) from e
    request._body = body
    request._stream = BytesIO(body)


class TokenAuth(auth.TokenAuth):
    """The API token (auth.TokenAuth, whose name the OpenAPI document shows); on a batch
    endpoint, once the token is good, the body is read under API_MAX_BODY_BYTES."""

    def authenticate(self, request, token):
        user = super().authenticate(request, token)
        if user is not None and is_batch_endpoint(request):
            read_body(request, settings.API_MAX_BODY_BYTES)
        return user


class WebhookSignature(AuthBase):
    """The signed webhook's check (connectors.webhook): the source named in the URL,
    active; a timestamp within the tolerance; then the body, read under
    WEBHOOK_MAX_BODY_BYTES, and its signature. A signature that does not match
    counts against the address, as a bad token does (accounts.throttle), and a
    right one is taken from any address."""

    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = webhook.SIGNATURE_HEADER

    def __call__(self, request):
        source = webhook.source_for(request.resolver_match.kwargs.get("slug", ""))
        timestamp = webhook.check_timestamp(request.headers.get(webhook.TIMESTAMP_HEADER),
                                            settings.WEBHOOK_TOLERANCE_SECONDS)
        read_body(request, settings.WEBHOOK_MAX_BODY_BYTES)
        try:
            webhook.check_signature(source, timestamp,
                                    request.headers.get(webhook.SIGNATURE_HEADER), request.body)
        except webhook.Refused:
            ip = throttle.client_ip(request)
            lockout = (throttle.current_lockout(throttle.TOKEN, "", ip)
                       or throttle.do_record_failure(throttle.TOKEN, "", ip))
            if lockout is not None:
                raise auth.TokenThrottled(lockout) from None
            raise
        return source
