"""Health of the database, the channel layer, the job runner and the LLM configuration."""
import asyncio
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

from planning import jobs


def _timed(check):
    started = time.perf_counter()
    try:
        detail = check() or {}
        ok = True
    except Exception as exc:  # noqa: BLE001  (health reports any failure as data)
        detail, ok = {"error": f"{type(exc).__name__}: {exc}"[:200]}, False
    return {"ok": ok, "latency_ms": round((time.perf_counter() - started) * 1000, 1), **detail}


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"engine": connection.vendor}


def check_channel_layer():
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")

    async def roundtrip():
        channel = await layer.new_channel("health.")
        await layer.send(channel, {"type": "health.ping"})
        return await layer.receive(channel)

    async def bounded():
        try:
            return await asyncio.wait_for(roundtrip(), timeout=2)
        except asyncio.TimeoutError:
            raise TimeoutError("no answer from the channel layer within 2 s") from None

    async_to_sync(bounded)()
    return {"backend": type(layer).__name__}


def check_job_runner():
    return jobs.health()


def check_llm():
    return {
        "configured": bool(settings.OPENAI_API_KEY),
        "model": settings.OPENAI_MODEL if settings.OPENAI_API_KEY else None,
        "custom_base_url": bool(settings.OPENAI_BASE_URL),
    }


def check_all():
    report = {
        "database": _timed(check_database),
        "channel_layer": _timed(check_channel_layer),
        "job_runner": _timed(check_job_runner),
        "llm": check_llm(),
    }
    healthy = all(report[name]["ok"] for name in ("database", "channel_layer", "job_runner"))
    report["status"] = "ok" if healthy else "degraded"
    return report
