"""The KPI engine: from the facts to KpiSnapshot rows, in four steps, a module each.

read (grouped queries per family of facts, at month grain; `attribution` says whom and when each
fact credits) → fold (months into periods, leaves up the team tree) → evaluate (the catalogue's
forms into numerator and denominator) → store (upsert the snapshots). `recompute` runs them:
in full, or incrementally after a change.
"""

from .recompute import recompute_all, recompute_subject, recompute_tree
from .store import delete_stale_snapshots

__all__ = ["delete_stale_snapshots", "recompute_all", "recompute_subject", "recompute_tree"]
