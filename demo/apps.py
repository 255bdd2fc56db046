from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`seed_demo`: above the apps, as it writes the rows of every one of them."""

    name = "demo"
