"""The JSON API (django-ninja): one router per resource, mounted under /api.

Every error is JSON ``{"detail": str, "errors": [...]?}``: domain errors from
``planning.errors``, ninja's validation errors (422), authentication (401) and anything
unexpected (logged, 500 without a traceback).
"""
import logging

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from planning.api.auth import API_AUTH
from planning.errors import PlanningError

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Season Planner API",
    version="1.0",
    description=(
        "Plan a fashion category's season: forecast, allocate, approve, then run it week by week. "
        "Authenticate with `Authorization: Bearer <token>` (create one with "
        "`manage.py create_api_token <username>`) or a browser session with CSRF."
    ),
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
)


def _json(request, status, body):
    return api.create_response(request, body, status=status)


def _location(loc):
    return ".".join(str(part) for part in loc if part not in ("body", "payload"))


@api.exception_handler(PlanningError)
def planning_error(request, exc):
    return _json(request, exc.status, exc.as_json())


@api.exception_handler(ValidationError)
def validation_error(request, exc):
    errors = [
        {"field": _location(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors
    ]
    first = errors[0] if errors else {"field": "", "message": "invalid value"}
    detail = f"Invalid value for {first['field'] or 'request'}: {first['message']}"
    return _json(request, 422, {"detail": detail, "errors": errors})


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    return _json(
        request,
        401,
        {"detail": "Authentication required: send 'Authorization: Bearer <token>' or sign in."},
    )


@api.exception_handler(AuthorizationError)
def authorization_error(request, exc):
    return _json(request, 403, {"detail": str(exc) or "Not allowed."})


@api.exception_handler(HttpError)
def http_error(request, exc):
    return _json(request, exc.status_code, {"detail": str(exc)})


@api.exception_handler(Http404)
def not_found(request, exc):
    return _json(request, 404, {"detail": str(exc) or "Not found."})


@api.exception_handler(Exception)
def unexpected_error(request, exc):
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return _json(request, 500, {"detail": "Internal error; it has been logged."})


from planning.api import health  # noqa: E402  (routers register on `api`)

api.add_router("/", health.router)

from planning.api import approvals, debug, extraction, workflows  # noqa: E402

api.add_router("/", extraction.router)
api.add_router("/", workflows.router)
api.add_router("/", approvals.router)
api.add_router("/", debug.router)

from planning.api import data, exports, resources  # noqa: E402

api.add_router("/", data.router)
api.add_router("/", resources.router)
api.add_router("/", exports.router)
