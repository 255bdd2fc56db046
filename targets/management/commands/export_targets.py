from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from targets.csv_io import targets_export_csv
from targets.models import Target


class Command(BaseCommand):
    help = (
        "Print targets as CSV (scope,name,metric,period,value,baseline,uplift_pct), the format "
        "import_targets reads. Only the targets a user may see with --user USERNAME."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", metavar="USERNAME", help="Only the targets this user may see.")

    def handle(self, user=None, **options):
        if user is None:
            # Without --user, every target: whoever runs manage.py has the database anyway.
            targets = Target.objects.all()
        else:
            found = get_user_model().objects.filter(username=user).first()
            if found is None:
                raise CommandError(f"No user named '{user}'.")
            targets = Target.objects.visible_to(found)
        targets_export_csv(targets=targets, stream=self.stdout)
