"""The URL conf, walked: every route, and a path that each route matches."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

# What a route's parameters are filled with; any other parameter gets "1".
FILL = {"format": "json", "app_label": "teams", "url": "anything/", "key": "revenue_won"}


def routes(resolver=None, prefix: str = ""):
    """(route, name) for every pattern, includes walked recursively; each route written as
    Django's ResolverMatch.route writes it (a regex's leading ^ dropped), the name namespaced."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern).removeprefix("^")
        if isinstance(p, URLResolver):
            yield from routes(p, route)
        elif isinstance(p, URLPattern):
            yield route, p.name


def is_admin(route: str) -> bool:
    return route.startswith("admin/")


def example_path(route: str) -> str:
    """A path that `route` matches (tests check that it resolves back to it)."""
    path = re.sub(r"<drf_format_suffix\w*:\w+>", "." + FILL["format"], route)  # /api/v1/.json
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: FILL.get(m[1], "1"), path)  # (?P<pk>[^/.]+)
    path = re.sub(r"\([^)]*\)", "1", path)  # ([^/]+)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: FILL.get(m[1], "1"), path)  # <path:object_id>
    return "/" + path.replace("\\.", ".").replace("/?$", "").replace("$", "")
