"""How the project talks to PostgreSQL (salesperf/settings.py)."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    # JIT compiled the waterfall's query for 150 ms to run it in 800 (docs/performance.md).
    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
