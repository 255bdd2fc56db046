"""Teams fixtures: the shared CRM data set (tests/kpis/conftest.py), for the import's moves."""

from tests.kpis.conftest import data_dir  # noqa: F401
