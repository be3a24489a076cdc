"""The closed vocabulary of candidate causes a run has: its reward components, data sources,
personas, envs and deployed config commits (what `overview` lists). A hypothesis or finding
that names anything else is refused back to the model."""

from __future__ import annotations

from dataclasses import dataclass

from rootcause.core.run import RunOverview

#: A commit may be named by a prefix of at least this many characters.
MIN_COMMIT_PREFIX = 7
#: Names listed in a refusal, at most.
MAX_LISTED = 12


@dataclass(frozen=True)
class Candidates:
    components: tuple[str, ...]
    data_sources: tuple[str, ...]
    personas: tuple[str, ...]
    envs: tuple[str, ...]
    commits: tuple[str, ...]

    @classmethod
    def of(cls, overview: RunOverview) -> Candidates:
        return cls(
            components=tuple(overview.components),
            data_sources=tuple(overview.data_sources),
            personas=tuple(overview.personas),
            envs=tuple(overview.envs),
            commits=tuple(dict.fromkeys(d.commit for d in overview.deployments)),
        )

    def _names(self, kind: str) -> tuple[str, ...]:
        return {
            "reward_component": self.components,
            "data_source": self.data_sources,
            "persona": self.personas,
            "env": self.envs,
        }.get(kind, ())

    def commit(self, name: str) -> str | None:
        """The deployed commit `name` names (full sha or a prefix of 7+ characters)."""
        name = name.strip().lower()
        if len(name) < MIN_COMMIT_PREFIX:
            return None
        return next((c for c in self.commits if c.lower().startswith(name)), None)

    def problems(
        self,
        kind: str,
        name: str,
        commit: str | None = None,
        slices: dict[str, str] | None = None,
    ) -> list[str]:
        """What in (kind, name, commit, slice) is not one of the run's candidates."""
        out = []
        if kind == "config_change":
            # the changed component, or the commit itself
            if name not in self.components and self.commit(name) is None:
                out.append(
                    f"config_change {name!r} names neither a reward component nor a deployed "
                    f"commit (components: {_listed(self.components)})"
                )
        elif name not in self._names(kind):
            out.append(
                f"{kind} {name!r} is not one of the run's {_plural(kind)}: "
                f"{_listed(self._names(kind))}"
            )
        if commit and self.commit(commit) is None:
            out.append(
                f"commit {commit!r} is not a deployed config commit: {_listed(self.commits)}"
            )
        for by, value in (slices or {}).items():
            if value not in self._names(by):
                out.append(f"slice {by}={value!r} is not one of the run's {_plural(by)}")
        return out


def _plural(kind: str) -> str:
    return {
        "reward_component": "reward components",
        "data_source": "data sources",
        "persona": "personas",
        "env": "envs",
    }.get(kind, kind)


def _listed(names: tuple[str, ...]) -> str:
    if not names:
        return "(none)"
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")
