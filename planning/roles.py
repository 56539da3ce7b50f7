"""Who may do what: viewers read; planners also run workflows, upload and approve; staff use the
admin and the debug endpoints. Roles are Django groups ("viewer", "planner") plus ``is_staff``."""
from django.contrib.auth.models import Group

VIEWER = "viewer"
PLANNER = "planner"
STAFF = "staff"
GROUPS = (VIEWER, PLANNER)
_RANK = {VIEWER: 0, PLANNER: 1, STAFF: 2}


def role_of(user):
    if user is None or not user.is_authenticated:
        return None
    if user.is_staff or user.is_superuser:
        return STAFF
    if user.groups.filter(name=PLANNER).exists():
        return PLANNER
    return VIEWER


def has_role(user, role):
    current = role_of(user)
    return current is not None and _RANK[current] >= _RANK[role]


def add_to_role(user, role):
    """Put ``user`` in the group of ``role`` (staff is the is_staff flag)."""
    if role == STAFF:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        return
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.add(group)
