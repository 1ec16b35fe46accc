from django.http import JsonResponse

API_PREFIX = "/api/"

# Headers of an error answer that keep their meaning in the JSON one.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class JsonErrorsMiddleware:
    """Every error under /api/ is JSON with a `detail`, as the API's own errors are:
    also those that Django answers before or after the API's views, with an HTML page
    of its own (an unknown URL, a method the endpoint does not take, a request it
    cannot read, a server error)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not request.path_info.startswith(API_PREFIX):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        answer = JsonResponse({"detail": response.reason_phrase}, status=response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                answer[header] = response[header]
        return answer
