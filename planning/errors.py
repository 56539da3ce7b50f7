"""Domain errors that services raise and the API turns into JSON ``{"detail", "errors"?}``.

Services never build HTTP responses; they raise one of these and the API layer (and the HTMX
views) show ``detail`` and, for row-level upload problems, ``errors``.
"""


class PlanningError(Exception):
    status = 400

    def __init__(self, detail, errors=None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors

    def as_json(self):
        body = {"detail": self.detail}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class NotFound(PlanningError):
    status = 404


class Conflict(PlanningError):
    """The action does not fit the current state (wrong workflow status, week already uploaded)."""

    status = 409


class PayloadTooLarge(PlanningError):
    status = 413


class DecompressedTooLarge(PayloadTooLarge):
    """A compressed upload that inflates past UPLOAD_MAX_DECOMPRESSED_BYTES (a gzip bomb)."""


class UnsupportedMediaType(PlanningError):
    status = 415


class Invalid(PlanningError):
    """Values out of range or a file that fails validation; ``errors`` lists the problems."""

    status = 422


class RateLimited(PlanningError):
    status = 429
