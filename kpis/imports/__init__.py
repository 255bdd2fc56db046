"""The mapped CSV import: a file of any CRM, its columns mapped to the fields of one kind of fact
(a saved `kpis.models.ImportMapping`), previewed, then imported — all rows or none, or the good
rows with the bad ones in an error CSV. docs/imports.md says what each kind takes.

- reading.py: the file as a table (encoding, header, rows with their lines);
- kinds.py: the kinds, their fields and the usual export headers (`suggest_columns`);
- values.py, rows.py: a row's cells as values and references to our records;
- run.py: `preview_import` and `import_table`, through the bulk API's machinery (kpis.bulk);
- reps.py: reps, whose users, teams and moves are written through their models.
"""

from .kinds import KINDS, FieldSpec, Kind, suggest_columns
from .reading import MAX_IMPORT_BYTES, ImportFailed, Table, read_table
from .run import ImportResult, Preview, RowError, import_table, mapping_errors, preview_import

__all__ = [
    "KINDS",
    "MAX_IMPORT_BYTES",
    "FieldSpec",
    "ImportFailed",
    "ImportResult",
    "Kind",
    "Preview",
    "RowError",
    "Table",
    "import_table",
    "mapping_errors",
    "preview_import",
    "read_table",
    "suggest_columns",
]
