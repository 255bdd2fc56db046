"""The team tree, loaded in one query and walked in memory (teams are few, reps are many)."""

from dataclasses import dataclass

from .models import Team


@dataclass(frozen=True)
class TeamTree:
    parent: dict[int, int | None]
    manager: dict[int, int | None]

    @classmethod
    def load(cls) -> "TeamTree":
        rows = list(Team.objects.values_list("pk", "parent_id", "manager_id"))
        return cls(
            parent={pk: parent for pk, parent, _ in rows},
            manager={pk: manager for pk, _, manager in rows},
        )

    def ancestors(self, team_id: int) -> list[int]:
        """The team itself, then each team above it up to its root."""
        chain = []
        while team_id is not None and team_id not in chain:
            chain.append(team_id)
            team_id = self.parent.get(team_id)
        return chain

    def children(self) -> dict[int, list[int]]:
        kids: dict[int, list[int]] = {pk: [] for pk in self.parent}
        for pk, parent in self.parent.items():
            if parent is not None:
                kids[parent].append(pk)
        return kids

    def subtree_ids(self, roots) -> set[int]:
        kids, found, stack = self.children(), set(), list(roots)
        while stack:
            pk = stack.pop()
            if pk not in found:
                found.add(pk)
                stack.extend(kids.get(pk, []))
        return found

    def roots(self) -> list[int]:
        return sorted(pk for pk, parent in self.parent.items() if parent is None)
