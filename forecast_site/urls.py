from django.contrib import admin
from django.urls import include, path, re_path

from planning.api import api
from planning.views.errors import api_not_found, json_or_html_404, json_or_html_500

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # Unknown /api paths answer JSON even with DEBUG on (no HTML under /api).
    re_path(r"^api/", api_not_found),
    path("", include("planning.urls")),
]

handler404 = json_or_html_404
handler500 = json_or_html_500
