"""The JSON API (django-ninja): one router per resource, mounted under /api.

Every error is JSON ``{"detail": str, "errors": [...]?}``: domain errors from
``planning.errors``, ninja's validation errors (422), malformed or oversized bodies (400, 413),
authentication (401), rate limits (429), a busy SQLite database (503) and anything unexpected
(logged, 500 without a traceback). The OpenAPI schema documents them: each operation lists its
own error codes, and SeasonPlannerAPI adds the shared ones (401 and 503 to every authenticated
operation, 400, 413 and 422 to every one that takes input, 429 to every rate-limited one).
"""
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import DataError, OperationalError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError

from planning.api.auth import API_AUTH
from planning.api.schemas import ErrorOut
from planning.errors import PlanningError

logger = logging.getLogger(__name__)

GENERIC_ERRORS = {
    400: "The request body could not be parsed",
    401: "Authentication required",
    413: "The request body is too large",
    422: "Invalid input: `errors` names each field",
    429: "Rate limit reached: retry after the Retry-After seconds",
    503: "The database is busy (SQLite write lock): retry after the Retry-After seconds",
}
BUSY_RETRY_SECONDS = 5


class SeasonPlannerAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI schema documents the errors every operation shares."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        error = {"application/json": {"schema": _register_error_schema(schema)}}
        throttled = {
            op.operation_id or self.get_openapi_operation_id(op)
            for router in self._get_bound_routers()
            for view in router.path_operations.values()
            for op in view.operations
            if op.throttle_objects
        }
        for operations in schema["paths"].values():
            for details in operations.values():
                codes = [401, 503] if details.get("security") else []
                if details.get("requestBody"):
                    codes += [400, 413]
                if details.get("parameters") or details.get("requestBody"):
                    codes.append(422)
                if details["operationId"] in throttled:
                    codes.append(429)
                for code in codes:
                    details["responses"].setdefault(code, {"description": GENERIC_ERRORS[code], "content": error})
        return schema


def _register_error_schema(schema):
    """Put ErrorOut (and the row error it nests) into the schema's components; return its $ref."""
    definition = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    components = schema["components"]["schemas"]
    for name, nested in definition.pop("$defs", {}).items():
        components.setdefault(name, nested)
    components.setdefault("ErrorOut", definition)
    return {"$ref": "#/components/schemas/ErrorOut"}


api = SeasonPlannerAPI(
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


@api.exception_handler(Throttled)
def throttled(request, exc):
    retry = f"; retry in {max(1, round(exc.wait))} s" if exc.wait else ""
    return _json(request, 429, {"detail": f"Too many requests: the limit is {settings.RATE_LIMIT_PER_MINUTE} "
                                          f"per minute{retry}."})


@api.exception_handler(HttpError)
def http_error(request, exc):
    return _json(request, exc.status_code, {"detail": str(exc)})


@api.exception_handler(Http404)
def not_found(request, exc):
    return _json(request, 404, {"detail": str(exc) or "Not found."})


@api.exception_handler(RequestDataTooBig)
def body_too_large(request, exc):
    return _json(request, 413, {"detail": f"The request body is larger than "
                                          f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes (files go in uploads)."})


@api.exception_handler(MultiPartParserError)
def bad_multipart(request, exc):
    return _json(request, 400, {"detail": f"The multipart body could not be parsed: {exc}"})


@api.exception_handler(SuspiciousOperation)
def suspicious(request, exc):
    logger.warning("Refused %s %s: %s", request.method, request.path, exc)
    return _json(request, 400, {"detail": "The request was refused as malformed."})


@api.exception_handler(DataError)
def data_error(request, exc):
    """A value the database cannot store or compare (PostgreSQL refuses NUL characters in text)."""
    logger.warning("Database refused a value in %s %s: %s", request.method, request.path, exc)
    return _json(request, 422, {"detail": "The request holds a value the database cannot store or search for "
                                          "(e.g. a NUL character)."})


@api.exception_handler(OperationalError)
def database_busy(request, exc):
    """SQLite's write lock held past the busy timeout (the writer already waited, retrying)."""
    if "database is locked" not in str(exc):
        return unexpected_error(request, exc)
    logger.warning("Database busy in %s %s: %s", request.method, request.path, exc)
    response = _json(request, 503, {"detail": "The database is busy with other writes; retry in a few seconds."})
    response["Retry-After"] = str(BUSY_RETRY_SECONDS)
    return response


@api.exception_handler(Exception)
def unexpected_error(request, exc):
    logger.exception("Unhandled error in %s %s", request.method, request.path)
    return _json(request, 500, {"detail": "Internal error; it has been logged."})


from planning.api import health  # noqa: E402  (routers register on `api`)

api.add_router("/", health.router)

from planning.api import approvals, batches, debug, extraction, workflows  # noqa: E402

api.add_router("/", extraction.router)
api.add_router("/", batches.router)
api.add_router("/", workflows.router)
api.add_router("/", approvals.router)
api.add_router("/", debug.router)

from planning.api import data, exports, resources, scenarios  # noqa: E402

api.add_router("/", data.router)
api.add_router("/", resources.router)
api.add_router("/", exports.router)
api.add_router("/", scenarios.router)
