"""Posting as a browser does, where the test client's defaults differ."""

from urllib.parse import urlencode


def post_form(client, url, data):
    """An HTML form's POST: URL-encoded (the test client's default is multipart)."""
    return client.post(url, urlencode(data), content_type="application/x-www-form-urlencoded")
