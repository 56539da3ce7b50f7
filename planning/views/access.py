"""Who may see and do what on the pages: every signed-in user reads; planners act (SPEC §6)."""
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from planning.roles import PLANNER, has_role


def forbidden(request):
    """403 as a fragment for htmx requests (swapped into the panel) or as a page."""
    template = "planning/partials/forbidden.html" if request.htmx else "errors/403.html"
    return render(request, template, status=403)


def planner_required(view):
    """Sign-in required; anyone below planner gets 403 (the pages hide the forms from them too)."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not has_role(request.user, PLANNER):
            return forbidden(request)
        return view(request, *args, **kwargs)

    return wrapped


def can_plan(user):
    return has_role(user, PLANNER)


def rate_limited(throttle):
    """The API's per-user limit (same scope, same count) on a page form: over it, 429 with
    Retry-After, as a fragment for htmx requests or as a page. Put it under planner_required so
    only a planner's own requests count."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if throttle.allow_request(request):
                return view(request, *args, **kwargs)
            retry = max(1, round(throttle.wait() or 60))
            template = "planning/partials/rate_limited.html" if request.htmx else "errors/429.html"
            context = {"limit": settings.RATE_LIMIT_PER_MINUTE, "retry": retry}
            response = render(request, template, context, status=429)
            response["Retry-After"] = str(retry)
            return response

        return wrapped

    return decorate
