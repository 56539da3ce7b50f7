from django.contrib import admin
from django.urls import include, path

from planning.api import api
from planning.views.errors import json_or_html_404, json_or_html_500

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("planning.urls")),
]

handler404 = json_or_html_404
handler500 = json_or_html_500
