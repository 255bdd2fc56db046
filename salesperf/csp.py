"""The Content-Security-Policy header, on every response.

The site's pages load one script (static/js/app.js) and one style sheet (static/css/app.css) from
its own origin and hold nothing inline — the charts are inline SVG, whose presentation attributes
(fill, width) no policy blocks — so one fixed policy fits every page, with no nonces. A tiny
middleware says it more simply than a package would (docs/reliability.md). The one exception is
Swagger UI (/api/docs/), whose page has an inline <style>: `with_inline_styles`.
https://developer.mozilla.org/docs/Web/HTTP/Headers/Content-Security-Policy
"""

from functools import wraps

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",  # data: for the icons in Swagger UI's and the admin's style sheets
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
HEADER = "Content-Security-Policy"


def policy(**overrides: str) -> str:
    return "; ".join(f"{name} {value}" for name, value in {**DIRECTIVES, **overrides}.items())


POLICY = policy()


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault(HEADER, POLICY)
        return response


def with_inline_styles(view):
    """For a view whose page has inline styles it cannot do without (a package's); scripts stay
    limited to files."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response[HEADER] = policy(**{"style-src": "'self' 'unsafe-inline'"})
        return response

    return wrapped
