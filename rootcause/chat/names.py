"""The names a run's commands can take as values (components, personas, sources, envs,
splits, deployed commits, the session's investigations), for completion."""

from __future__ import annotations

from dataclasses import dataclass, field

from rootcause.core.run import RunOverview


@dataclass(frozen=True)
class RunNames:
    """The names a run's commands can take as values."""

    components: list[str] = field(default_factory=list)
    personas: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    envs: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)
    #: Deployed commits: (abbreviated sha, what to show next to it).
    commits: list[tuple[str, str]] = field(default_factory=list)
    #: Investigations of the session with a cause, newest first (for `/fix`).
    investigations: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, overview: RunOverview) -> RunNames:
        seen: dict[str, str] = {}
        for d in overview.deployments:
            note = f"live at step {d.step}" + (f": {d.message}" if d.message else "")
            seen.setdefault(d.commit[:10], " ".join(note.split())[:80])
        return cls(
            components=list(overview.components),
            personas=list(overview.personas),
            sources=list(overview.data_sources),
            envs=list(overview.envs),
            splits=list(overview.splits),
            commits=list(seen.items()),
        )

    def level(self, by: str) -> list[str]:
        """The values of one slice level (`persona`, `data_source`, `env`, `split`)."""
        return {
            "persona": self.personas,
            "data_source": self.sources,
            "env": self.envs,
            "split": self.splits,
        }.get(by, [])
