"""A Content-Security-Policy on every response: scripts and styles only from the site's own files
(static/js/app.js, static/css/app.css), nothing inline, no plugins, no framing. The templates hold
nothing the policy would block (an inline script, a style attribute, an on… handler), so the pages
and their inline SVG charts work under it: the browser test (tests/e2e/test_csp.py) proves it."""

import re
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def directives(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (d.split() for d in header.split(";") if d.strip())}


def test_every_response_carries_the_policy(org):
    client = Client()
    client.force_login(org.admin)
    for path in ["/accounts/login/", "/dashboard/", "/admin/", "/healthz", "/api/v1/teams/", "/nowhere/"]:
        policy = directives(client.get(path)["Content-Security-Policy"])

        assert policy["default-src"] == ["'self'"], path
        assert policy["script-src"] == ["'self'"], path
        assert policy["style-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"], path
        assert policy["frame-ancestors"] == ["'none'"], path
        assert policy["base-uri"] == ["'none'"], path


def test_the_api_docs_allow_only_swagger_uis_inline_styles(org):
    client = Client()
    response = client.get("/api/docs/")
    policy = directives(response["Content-Security-Policy"])

    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert not re.search(rb"<script>", response.content)  # its setup script is a file of its own


INLINE = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "a style attribute": re.compile(r"\sstyle=", re.I),
    "a <style> element": re.compile(r"<style", re.I),
    "an event handler attribute": re.compile(r"\son[a-z]+=", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def test_no_template_holds_what_the_policy_blocks():
    found = [
        f"{path.relative_to(TEMPLATES)}: {what}"
        for path in TEMPLATES.rglob("*.html")
        for what, pattern in INLINE.items()
        if pattern.search(path.read_text())
    ]
    assert found == []


def test_the_charts_draw_without_style_attributes():
    from kpis import charts

    source = Path(charts.__file__).read_text()

    assert not INLINE["a style attribute"].search(source)
