"""ASGI guard against oversized request bodies, in front of Django.

Django's ASGI handler reads the whole request body (spooling it to a temporary file) before any
view runs, so the upload views' own 413 would come only after a client had sent everything it
declared: a gigabyte, say. This middleware answers 413 as soon as the declared Content-Length is
over the limit, and stops a body sent without one (chunked) once it passes the limit. The limit is
settings.UPLOAD_MAX_BYTES plus room for the multipart framing; no request needs more.
"""
import json

from django.conf import settings


class BodyTooLarge(Exception):
    pass


def max_request_bytes():
    from planning.api.data import MULTIPART_ALLOWANCE

    return settings.UPLOAD_MAX_BYTES + MULTIPART_ALLOWANCE


class BodySizeLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = max_request_bytes()
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            return await _refuse(scope, send)
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted_receive, send)
        except BodyTooLarge:
            await _refuse(scope, send)


async def _refuse(scope, send):
    detail = f"The request body is larger than the upload limit of {settings.UPLOAD_MAX_BYTES:,} bytes."
    if scope["path"].startswith("/api/"):
        body, content_type = json.dumps({"detail": detail}).encode(), b"application/json"
    else:
        body, content_type = detail.encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
