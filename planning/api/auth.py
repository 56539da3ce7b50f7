"""API authentication: a per-user bearer token or the browser session (which needs CSRF)."""
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from planning.models import ApiToken
from planning.roles import has_role


def user_for_token(raw):
    """The active user owning the unrevoked token ``raw``, or None (the WebSocket uses it too)."""
    if not raw:
        return None
    found = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if found is None:
        return None
    now = timezone.now()
    # Refresh at most once a minute: a write per request would serialise SQLite readers.
    if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


API_AUTH = [BearerToken(), SessionAuth()]


def require_role(request, role):
    """Raise 403 unless the authenticated user has at least ``role``."""
    if not has_role(request.auth, role):
        raise HttpError(403, f"This action needs the {role} role.")
