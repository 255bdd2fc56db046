"""Settings for load runs against gunicorn on loopback (kpis.bench.server): production's, with
three changes a run needs. SECRET_KEY and ALLOWED_HOSTS come from the environment, as there.
"""

from salesperf.settings_production import *  # noqa: F403
from salesperf.settings_production import REST_FRAMEWORK

# Plain http on 127.0.0.1: no redirect to https.
SECURE_SSL_REDIRECT = False
# One user's clients would reach the per-user API rate (1200/minute) within seconds; a run
# measures the app, not the throttle.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
# bench_pages signs its clients in with sessions it signs itself, so that it writes nothing to
# the database it measures; a signed cookie needs no row (and the login form works as ever).
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
