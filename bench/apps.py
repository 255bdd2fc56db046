from django.apps import AppConfig


class BenchConfig(AppConfig):
    """`bench_kpis` and `bench_pages`: above the apps, as they measure all of them."""

    name = "bench"
