from django.db import models


class MoneyField(models.DecimalField):
    """Money: Decimal with 14 digits and 2 places, in settings.CURRENCY."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs


class PeriodKind(models.TextChoices):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
