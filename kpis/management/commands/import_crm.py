from django.core.management.base import BaseCommand, CommandError

from kpis.crm_import import ImportFailed, OrgChangesUnconfirmed, import_crm


class Command(BaseCommand):
    help = "Import the 'CRM Sales Opportunities' CSV layout from DIR; re-importing updates."

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--no-recompute", action="store_true", help="Do not recompute the KPI snapshots afterwards."
        )
        parser.add_argument(
            "--confirm-org-changes",
            action="store_true",
            help="Apply what the files change in the existing organisation (without it, the import "
            "lists those changes and imports nothing).",
        )

    def progress(self, step: str, done: int = 0, total: int | None = None) -> None:
        self.stdout.write(f"{step}: {done}" + (f" of {total}" if total is not None else ""))

    def handle(self, directory, no_recompute=False, confirm_org_changes=False, **options):
        try:
            report = import_crm(
                directory,
                recompute=not no_recompute,
                progress=self.progress,
                confirm_org=confirm_org_changes,
            )
        except OrgChangesUnconfirmed as e:
            raise CommandError(
                f"{e} Nothing was imported; to apply them, add --confirm-org-changes."
            ) from None
        except ImportFailed as e:
            raise CommandError(str(e)) from None
        for line in report.skipped:
            self.stderr.write(f"skipped {line}")
        counts = ", ".join(f"{n} {what}" for what, n in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Imported {counts}; {report.rows_skipped} rows skipped."))
        if not no_recompute:
            self.stdout.write("KPI snapshots are being recomputed (on a worker, or here without a broker).")
