"""Error responses under /api are JSON, whoever produced them."""
from django.http import JsonResponse

KEPT_HEADERS = ("Allow", "Retry-After")


class JsonApiErrors:
    """Turn a non-JSON error under /api into ``{"detail": ...}`` with the same status.

    The API's own handlers already answer JSON; this catches the rest: django-ninja answers a wrong
    method with a bare "Method not allowed" (405), and Django's own error responses are HTML."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            detail = f"{response.reason_phrase}."
            if response.status_code == 405 and response.has_header("Allow"):
                detail = f"Method {request.method} not allowed; use {response['Allow']}."
            replacement = JsonResponse({"detail": detail}, status=response.status_code)
            for header in KEPT_HEADERS:
                if response.has_header(header):
                    replacement[header] = response[header]
            return replacement
        return response
