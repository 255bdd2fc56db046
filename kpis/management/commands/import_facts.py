from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from kpis.imports import KINDS, MAX_IMPORT_BYTES, ImportFailed, import_table, read_table
from kpis.models import ImportMapping


class Command(BaseCommand):
    help = (
        "Import a CSV file of any CRM through a saved mapping (docs/imports.md): all rows or none, "
        "or with --good-rows-only the good ones; re-importing updates."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--kind", required=True, choices=list(KINDS))
        parser.add_argument("--mapping", required=True, metavar="NAME", help="A saved mapping, by name.")
        parser.add_argument(
            "--good-rows-only", action="store_true", help="Import the good rows and report the bad ones."
        )
        parser.add_argument(
            "--confirm",
            action="store_true",
            help="Create the users and teams and make the moves the file asks for (without it, the "
            "import lists them and imports nothing).",
        )
        parser.add_argument(
            "--errors-csv", metavar="PATH", help="Write the refused rows there, with their errors."
        )
        parser.add_argument("--no-recompute", action="store_true", help="Do not recompute the KPI snapshots.")
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Import as this user: what they may see and write, and the deal history names them "
            "(default: as an administrator, recorded as nobody, like the other commands).",
        )

    def progress(self, step: str, done: int = 0, total: int | None = None) -> None:
        if self.verbosity > 1:
            self.stdout.write(f"{step}: {done}" + (f" of {total}" if total is not None else ""))

    def handle(self, file, kind, mapping, **options):
        self.verbosity = options["verbosity"]
        saved = ImportMapping.objects.filter(name=mapping).first()
        if saved is None:
            names = (
                ", ".join(ImportMapping.objects.filter(kind=kind).values_list("name", flat=True)) or "none"
            )
            raise CommandError(f"No mapping named '{mapping}' (saved for {kind}: {names}).")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: file not found.")
        if path.stat().st_size > MAX_IMPORT_BYTES:  # said before reading it all
            raise CommandError(
                f"{file}: over the {MAX_IMPORT_BYTES // 1024 // 1024} MB an import takes: split the file."
            )
        try:
            table = read_table(path.read_bytes(), name=file)
            self.stdout.write(f"{file}: read as {table.encoding}, {len(table.rows)} rows.")
            result = import_table(
                kind=kind,
                table=table,
                mapping=saved,
                user=self.importer(options["user"]),
                good_rows_only=options["good_rows_only"],
                confirmed=options["confirm"],
                progress=self.progress,
                recompute=not options["no_recompute"],
            )
        except ImportFailed as e:
            for error in e.errors:
                self.stderr.write(error)
            if e.error_csv and options["errors_csv"]:
                Path(options["errors_csv"]).write_bytes(e.error_csv)
            hint = " To go ahead, add --confirm." if "confirmation" in e.message else ""
            raise CommandError(e.message + hint) from None
        for error in result.errors:
            self.stderr.write(error)
        if result.error_csv and options["errors_csv"]:
            Path(options["errors_csv"]).write_bytes(result.error_csv)
            self.stdout.write(f"The refused rows are in {options['errors_csv']}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged, "
                f"{result.refused} refused."
            )
        )

    def importer(self, username):
        User = get_user_model()
        if not username:
            # An administrator no one is: sees and may write everything; history records nobody.
            return User(username="import_facts", is_staff=True, is_active=True)
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user '{username}'.")
        return user
