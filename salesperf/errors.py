"""Branded 403 / 404 / 500 pages in every mode.

With DEBUG off Django renders templates/403.html, 404.html and 500.html itself. With DEBUG on
(`make demo`) it shows its technical pages instead — to whoever opens the demo. This middleware
puts the branded page in their place for the pages (not the API, which answers JSON); the
traceback of a 500 still goes to the log (the `django.request` logger).
"""

from django.conf import settings
from django.http import HttpResponse
from django.template import loader

BRANDED = {403, 404, 500}


class BrandedErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code in BRANDED
            and not request.path.startswith("/api/")
            and response.get("Content-Type", "").startswith("text/html")
        ):
            body = loader.get_template(f"{response.status_code}.html").render()
            branded = HttpResponse(body, status=response.status_code)
            for header in ("Content-Security-Policy", "X-Frame-Options"):
                if header in response:
                    branded[header] = response[header]
            return branded
        return response
