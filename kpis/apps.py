from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"

    def ready(self):
        from . import signals  # noqa: F401  (connects the incremental-recompute hooks)
