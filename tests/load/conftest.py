import shutil

import pytest

from bench import wrk
from tests.services import services_required


@pytest.fixture
def wrk_installed():
    """Without wrk these tests skip; with SALESPERF_REQUIRE_SERVICES=1 (CI, whose .ci/run
    installs it) they fail instead."""
    if shutil.which(wrk.WRK) is None:
        message = "wrk is not installed (apt-get install wrk)"
        if services_required():
            pytest.fail(f"SALESPERF_REQUIRE_SERVICES=1 and {message}.", pytrace=False)
        pytest.skip(message)
