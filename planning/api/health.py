"""GET /api/health: is each moving part reachable? Public; says nothing secret."""
from ninja import Router, Schema, Status

from planning.services import health as health_service

router = Router(tags=["health"])


class HealthOut(Schema):
    status: str
    database: dict
    channel_layer: dict
    job_runner: dict
    llm: dict


@router.get("/health", auth=None, response={200: HealthOut, 503: HealthOut})
def health(request):
    report = health_service.check_all()
    return Status(200 if report["status"] == "ok" else 503, report)
