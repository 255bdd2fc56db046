from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from targets.csv_io import targets_import_csv


class Command(BaseCommand):
    help = (
        "Set targets from a CSV file (scope,name,metric,period,value[,baseline,uplift_pct]) as USERNAME, "
        "with that user's permissions. One bad row and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file (UTF-8).")
        parser.add_argument(
            "--user", metavar="USERNAME", required=True, help="Whose permissions apply and who history names."
        )

    def handle(self, file, user, **options):
        found = get_user_model().objects.filter(username=user).first()
        if found is None:
            raise CommandError(f"No user named '{user}'.")
        try:
            with open(file, "rb") as f:
                errors = targets_import_csv(user=found, file=f)
        except OSError as e:
            raise CommandError(f"Cannot read {file}: {e.strerror}.") from None
        if errors:
            for error in errors:
                self.stderr.write(error)
            raise CommandError(f"{file}: {len(errors)} error(s); nothing was imported.")
        self.stdout.write(self.style.SUCCESS(f"Imported the targets of {file}."))
