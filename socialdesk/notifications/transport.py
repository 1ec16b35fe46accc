"""The one place a webhook leaves the desk: tests replace `post_json`."""

import http.client
import urllib.error
import urllib.request


class WebhookNetworkError(Exception):
    """No HTTP answer came back: refused, reset, timed out, unknown host."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A receiver that redirects gets its 3xx as the answer: following it would
    # resend a signed body to a host nobody configured (or, for 301-303, turn
    # the POST into a GET without one).
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post_json(url: str, body: bytes, headers: dict, timeout: float) -> int:
    """POST `body` and return the HTTP status code, whatever it is.

    Raises ValueError for a URL that is not http(s): urllib would open file://
    and ftp:// too."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as e:
        e.close()
        return e.code
    except (OSError, http.client.HTTPException) as e:
        # URLError and TimeoutError are OSErrors; a garbled status line is an
        # HTTPException.
        raise WebhookNetworkError(str(getattr(e, "reason", e)) or type(e).__name__) from e
