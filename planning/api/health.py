"""GET /api/health: is each moving part reachable? Public; says nothing secret."""
from ninja import Field, Router, Schema, Status

from planning.services import health as health_service

router = Router(tags=["health"])


class PartHealthOut(Schema):
    ok: bool
    latency_ms: float
    error: str | None = Field(None, description="Why the part is unreachable")
    engine: str | None = Field(None, description="Database vendor")
    backend: str | None = Field(None, description="Channel layer class, or in-process / celery")


class LLMHealthOut(Schema):
    configured: bool
    model: str | None
    custom_base_url: bool


class HealthOut(Schema):
    status: str = Field(..., examples=["ok"], description="ok, or degraded when a part is unreachable")
    database: PartHealthOut
    channel_layer: PartHealthOut
    job_runner: PartHealthOut
    llm: LLMHealthOut


@router.get("/health", auth=None, response={200: HealthOut, 503: HealthOut})
def health(request):
    report = health_service.check_all()
    return Status(200 if report["status"] == "ok" else 503, report)
