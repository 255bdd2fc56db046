"""Deterministic synthetic data for every model, with demo logins: what `seed_demo` writes."""

from .org import DemoLogin
from .services import DemoDatabaseNotEmpty, DemoResult, DemoSize, demo_flush, demo_seed

__all__ = ["DemoDatabaseNotEmpty", "DemoLogin", "DemoResult", "DemoSize", "demo_flush", "demo_seed"]
