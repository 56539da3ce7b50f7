"""Django's ASGI handler, with each request's middleware and view run in one worker thread.

Every view of Season Planner is synchronous. Django's own ASGI handler runs its middleware in
async mode, and an async-mode ``MiddlewareMixin`` hands ``process_request`` and
``process_response`` to a thread and back: with our nine middleware that is some twenty hops
between the event loop and a thread per request, plus a new thread for each request. Measured on
this 2-core machine that made a 2 ms API read cost 8-16 ms through daphne.

``ThreadedASGIHandler`` loads the middleware in sync mode (as the WSGI handler does) and runs the
whole chain for a request in one call on a fixed pool of worker threads. Each worker keeps its
database connection between requests (``CONN_MAX_AGE``), which a new thread per request could
not. WebSockets are untouched (Channels, see ``forecast_site.asgi``).
"""
import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connections
from django.http import FileResponse
from django.urls import set_script_prefix

class ThreadedASGIHandler(ASGIHandler):
    def __init__(self, worker_threads: int | None = None):
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.worker_threads = worker_threads or settings.HTTP_WORKER_THREADS
        self.executor = ThreadPoolExecutor(self.worker_threads, thread_name_prefix="http-worker")

    def shutdown(self):
        """Close every worker's database connections, then stop the workers (tests use it: a
        test database cannot be dropped while a worker holds a connection to it)."""
        # The barrier puts one task on each worker thread: none can take a second task while
        # all wait.
        barrier = threading.Barrier(self.worker_threads)

        def close():
            barrier.wait(timeout=30)
            connections.close_all()

        for future in [self.executor.submit(close) for _ in range(self.worker_threads)]:
            future.result()
        self.executor.shutdown(wait=True)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            # thread_sensitive=False with our executor: a pooled worker, not a new thread; a view's
            # async_to_sync (event broadcasts) still reaches this event loop.
            response = await sync_to_async(self.respond, thread_sensitive=False, executor=self.executor)(
                scope, body_file
            )
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while we were sending
            if response.streaming:
                await sync_to_async(response.close, thread_sensitive=False, executor=self.executor)()
        finally:
            body_file.close()

    def respond(self, scope, body_file):
        """The response to one request, computed in a worker thread.

        A non-streaming response is complete here, so it is closed here too: ``request_finished``
        then does its connection housekeeping on the thread that used the connection."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response
