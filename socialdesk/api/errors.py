"""The API's errors: every one is JSON with a `detail` that says what went wrong
(ErrorOut), and each endpoint documents the status codes it can answer."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from ninja import NinjaAPI
from ninja.errors import ValidationError

from socialdesk.api.schemas import ErrorOut, ReplyRefusedOut, ValidationErrorOut

logger = logging.getLogger(__name__)

# Every endpoint can answer these: 400, a request that cannot be read (a body that
# is not JSON, a query string of too many fields); 401, no token or a bad one; 422,
# parameters or a body that do not fit the schema; 429, too many failed tokens from
# the client's address (Retry-After says when to try again); 503, the database
# cannot be reached (Retry-After too).
COMMON = {400: ErrorOut, 401: ErrorOut, 422: ValidationErrorOut, 429: ErrorOut, 503: ErrorOut}
# How long a client waits before it tries again when the database cannot be reached.
DATABASE_RETRY_AFTER = 30


def responses(ok: dict, *, body: bool = False, forbidden: bool = False,
              not_found: bool = False, conflict: bool = False, refused: bool = False,
              also: dict | None = None) -> dict:
    """The `response=` of an endpoint: its answers (`ok`) and the errors it can give,
    with the codes every endpoint can answer. `body`: it reads a request body, so it
    answers 413 for one over the size limit. `refused`: an action the desk may refuse
    (cases.actions.ActionError), answered 422 with the reasons (ReplyRefusedOut).
    `also`: more codes and their schemas."""
    codes = {**ok, **COMMON}
    if body:
        codes[413] = ErrorOut
    if forbidden:
        codes[403] = ErrorOut
    if not_found:
        codes[404] = ErrorOut
    if conflict:
        codes[409] = ErrorOut
    if refused:
        codes[422] = ValidationErrorOut | ReplyRefusedOut
    codes.update(also or {})
    return codes


RETRY_AFTER = {"Retry-After": {
    "description": "Seconds to wait before trying again",
    "schema": {"type": "integer", "minimum": 0}}}


class DocumentedAPI(NinjaAPI):
    """The OpenAPI document also says that 429 and 503 answers carry Retry-After."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        for item in schema["paths"].values():
            for operation in item.values():
                for code, answer in operation["responses"].items():
                    if int(code) in (429, 503):
                        answer["headers"] = RETRY_AFTER
        return schema


class BodyTooLarge(RequestDataTooBig):
    """A body over the limit of the endpoint it was sent to."""

    def __init__(self, limit: int):
        super().__init__(f"The request body is larger than this endpoint takes "
                         f"({limit:,} bytes).")


def _location(loc: list) -> str:
    return ".".join(str(part) for part in loc) or "request"


def install(api: NinjaAPI) -> None:
    """The handlers that give validation errors and oversized bodies the API's shape."""

    @api.exception_handler(ValidationError)
    def invalid(request, e: ValidationError):
        """422, with one line for people and `errors` for programs."""
        errors = [{"loc": [part if isinstance(part, int) else str(part)
                           for part in error.get("loc", ())],
                   "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}
                  for error in e.errors]
        shown = "; ".join(f"{_location(error['loc'])}: {error['msg']}" for error in errors[:3])
        if len(errors) > 3:
            shown += f"; and {len(errors) - 3} more"
        return api.create_response(request, {"detail": f"Invalid request: {shown}",
                                             "errors": errors}, status=422)

    @api.exception_handler(OperationalError)
    @api.exception_handler(InterfaceError)
    def database_down(request, e: DatabaseError):
        """503: the database cannot be reached (it restarts, the network is cut). Every
        write is idempotent or atomic, so sending the request again is safe."""
        logger.warning("API request failed, the database is unavailable: %s", e)
        response = api.create_response(request, {
            "detail": "The database is unavailable. Send the request again once it is "
                      "back: nothing is stored twice."}, status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response

    @api.exception_handler(RequestDataTooBig)
    def too_large(request, e: RequestDataTooBig):
        # Django's own refusal (request.body past DATA_UPLOAD_MAX_MEMORY_SIZE) names
        # a setting; say the number instead.
        error = e if isinstance(e, BodyTooLarge) else \
            BodyTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return api.create_response(request, {"detail": str(error)}, status=413)
