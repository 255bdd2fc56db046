from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


class KpisConfig(AppConfig):
    name = "kpis"

    def ready(self):
        from . import deal_history, signals  # noqa: F401  (signals: the incremental-recompute hooks)

        post_migrate.connect(deal_history.install_triggers, sender=self)
        connection_created.connect(deal_history.register_sqlite_actor)
