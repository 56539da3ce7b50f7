"""Server-rendered planner pages (thin: queries and services do the work)."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from planning.models import Workflow


@login_required
def seasons(request):
    plans = (
        Workflow.objects.filter(type=Workflow.Type.FORECAST)
        .select_related("category", "owner")
        .order_by("-created_at")[:200]
    )
    return render(request, "planning/seasons.html", {"plans": plans})
