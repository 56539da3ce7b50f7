"""Who may see and do what on the pages: every signed-in user reads; planners act (SPEC §6)."""
from functools import wraps

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
