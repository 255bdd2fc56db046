"""Deterministic synthetic data for every model, with demo logins: what `seed_demo` writes.

The entry points are in `demo.services` (`demo_seed`, `demo_flush`, `DemoSize`); this package
imports no models, as Django imports it before they are ready.
"""
