"""While PostgreSQL or Redis is down, a request gets a clean 503 "try again shortly", not a 500
with a traceback; once the service is back the next request simply works (Django opens a new
database connection, redis-py reconnects), without restarting the app. docs/reliability.md
"""

import logging

import kombu.exceptions
import redis.exceptions
from django import db
from django.http import JsonResponse
from django.template.response import SimpleTemplateResponse

log = logging.getLogger(__name__)

# A lost or refused connection: to the database, the cache, or the broker (enqueueing a task).
UNAVAILABLE = (
    db.OperationalError,
    db.InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
)
RETRY_AFTER = "30"  # seconds


class ServiceUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, UNAVAILABLE):
            return None
        log.error("A service is unavailable: %s %s", request.method, request.path, exc_info=exception)
        message = "The service is temporarily unavailable. Please try again shortly."
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message}, status=503)
        else:
            # No context processors: they would reach for the session, in the database.
            response = SimpleTemplateResponse("503.html", {"message": message}, status=503).render()
        response["Retry-After"] = RETRY_AFTER
        return response
