"""Settings for load runs against gunicorn on loopback (bench.server): the project's settings
with what a measurement needs. SECRET_KEY and ALLOWED_HOSTS come from the environment (the
server passes them).

Not production's settings: what those add (HTTPS redirect, HSTS, secure cookies) is off over
plain http on loopback, or a header; what counts for speed is here.
"""

from salesperf.settings import *  # noqa: F403
from salesperf.settings import REST_FRAMEWORK

# As in production: no debug pages, no query log kept per request.
DEBUG = False
# One user's clients would reach the per-user API rate (1200/minute) within seconds; a run
# measures the app, not the throttle.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
# bench_pages signs its clients in with sessions it signs itself, so that it writes nothing to
# the database it measures; a signed cookie needs no row (and the login form works as ever).
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
