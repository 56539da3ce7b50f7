"""Error pages: JSON under /api (an API client never gets HTML), templates elsewhere."""
from django.http import JsonResponse
from django.shortcuts import render


def _is_api(request):
    return request.path.startswith("/api/")


def api_not_found(request):
    return JsonResponse({"detail": f"No API endpoint at {request.path}."}, status=404)


def json_or_html_404(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "errors/404.html", status=404)


def json_or_html_500(request):
    if _is_api(request):
        return JsonResponse({"detail": "Internal error; it has been logged."}, status=500)
    return render(request, "errors/500.html", status=500)
