"""Views of the project itself, outside any app."""

from django.db import connection, transaction
from django.http import HttpResponse
from django.views.decorators.http import require_safe


@require_safe
@transaction.non_atomic_requests
def healthz(request):
    """ "ok" while the app serves and its database answers (for a load balancer or an
    orchestrator); no session, no transaction, one `SELECT 1`. Public: it tells nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
