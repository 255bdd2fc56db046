"""Views of the project itself, outside any app."""

from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.http import require_safe


@require_safe
@transaction.non_atomic_requests
def healthz(request):
    """ "ok" while the app serves and its database answers (for a load balancer or an
    orchestrator); no session, no transaction, one `SELECT 1`. Public: it tells nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def not_found(request, exception):
    """A 404 for a URL no route matches (an id with a dot, a path the API does not have): JSON
    under /api/, as the API's own 404s are and its schema says; the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
