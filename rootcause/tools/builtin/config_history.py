"""`config_history`: the commits of the run's config repo and when each went live."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rootcause.core.evidence import Figure, Subject
from rootcause.core.untrusted import fenced, inline, label
from rootcause.history import CommitInfo, ConfigHistory, touched_names
from rootcause.tools.base import ToolInput, ToolOutput, tool
from rootcause.tools.context import ToolContext
from rootcause.tools.history_views import (
    EffectView,
    change_subjects,
    effect_views,
    history_of,
    known_names,
    steps_text,
)

#: Longest commit message shown.
MAX_MESSAGE_CHARS = 160


class ConfigHistoryInput(ToolInput):
    touching: str | None = Field(
        None, description="Only commits that touch this reward component or data source."
    )
    limit: int = Field(40, ge=1, le=500, description="Most commits shown (newest kept).")


class CommitView(BaseModel):
    sha: str
    message: str
    author: str
    date: str
    files: list[str] = Field(description="'A|M|D path' for every file changed vs. the parent.")
    live_steps: list[int] = Field(description="Steps the commit went live; empty: never.")
    components: list[str] = Field(description="Reward components the commit touched.")
    sources: list[str] = Field(description="Data sources the commit touched.")
    effects: list[EffectView]


class ConfigHistoryOutput(ToolOutput):
    config_repo: str
    commits: list[CommitView]
    total_commits: int
    deployed_commits: int
    touching: str | None = None

    def render(self) -> str:
        scope = f" touching {label(self.touching)}" if self.touching else ""
        lines = [
            f"config repo {inline(self.config_repo)}: {self.total_commits} commits{scope}, "
            f"{self.deployed_commits} deployed; showing {len(self.commits)} (oldest first)"
        ]
        for c in self.commits:
            lines.append(
                f"- {label(c.sha[:10])} {label(c.date[:10])} {label(c.author)}: "
                f"{fenced(c.message, MAX_MESSAGE_CHARS)}"
            )
            files = inline(", ".join(c.files)) or "-"
            lines.append(f"    {steps_text(c.live_steps)}; files: {files}")
            if c.components or c.sources:
                touched = ", ".join(
                    [*map(label, c.components), *(f"source {label(s)}" for s in c.sources)]
                )
                lines.append(f"    touches: {touched}")
            lines += [f"    * {e.line()}" for e in c.effects[:8]]
            if len(c.effects) > 8:
                lines.append(f"    * … {len(c.effects) - 8} more changes")
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        return {
            "commits": self.total_commits,
            "deployed_commits": self.deployed_commits,
            "never_deployed": self.total_commits - self.deployed_commits,
        }

    def subjects(self) -> list[Subject]:
        return [s for c in self.commits for s in change_subjects(c.sha, c.effects)]


def _view(
    history: ConfigHistory, info: CommitInfo, components: list[str], sources: list[str]
) -> CommitView:
    diff = history.diff(info.sha)
    found = effect_views(diff)
    component_names = set(components) | {
        e.target for e in found if e.kind.startswith("component") or e.file.startswith("rewards/")
    }
    source_names = set(sources) | {e.target for e in found if e.kind.startswith("source")}
    touched = touched_names(diff, sorted(component_names | source_names))
    letter = {"added": "A", "removed": "D", "modified": "M"}
    return CommitView(
        sha=info.sha,
        message=info.message,
        author=info.author,
        date=info.date,
        files=[f"{letter[status]} {path}" for path, status in info.files],
        live_steps=list(info.live_steps),
        components=sorted(touched & component_names),
        sources=sorted(touched & source_names),
        effects=found,
    )


@tool("config_history")
def config_history(ctx: ToolContext, args: ConfigHistoryInput) -> ConfigHistoryOutput:
    """List the commits of the run's reward/data config repository, oldest first: message,
    author, date, files changed, the step each commit went live (or "never deployed"), which
    reward components and data sources it touched, and what it changed (weights, grader
    inputs, new components or sources). Use it to find candidate config changes behind a
    behaviour; then `config_diff` shows one change in full and `event_alignment` relates
    deployments to the behaviour's onset. Use `touching` to follow one component or source."""
    components, sources = known_names(ctx)
    with history_of(ctx) as history:
        commits = history.commits()
        views = [_view(history, c, components, sources) for c in commits]
        repo_path = str(history.repo.path)
    if args.touching:
        views = [v for v in views if args.touching in (*v.components, *v.sources)]
    return ConfigHistoryOutput(
        config_repo=repo_path,
        commits=views[-args.limit :],
        total_commits=len(views),
        deployed_commits=sum(1 for v in views if v.live_steps),
        touching=args.touching,
    )
