"""`config_diff`: what one config commit changed, structurally, and when each side went live."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rootcause.core.evidence import Figure, Subject
from rootcause.core.untrusted import inline, label
from rootcause.history.structural import MAX_VALUE_CHARS
from rootcause.tools.base import ToolInput, ToolOutput, tool
from rootcause.tools.context import ToolContext
from rootcause.tools.history_views import (
    EffectView,
    change_subjects,
    effect_views,
    history_of,
    steps_text,
)

#: Most diff lines in the text rendering (the JSON output keeps all of them).
MAX_RENDERED_LINES = 80


class ConfigDiffInput(ToolInput):
    commit: str = Field(description="The commit to explain (sha, abbreviated sha or ref).")
    base: str | None = Field(
        None, description="Compare against this commit instead of the commit's parent."
    )


class FileView(BaseModel):
    path: str
    status: str
    structural: bool
    title: str = Field(description="The path and what happened to the file: 'x.yaml (new file)'.")
    changes: list[str] = Field(
        default_factory=list,
        description="The file's changes, whole values: 'weight 0.5 → 1.0', '+ params.bonus: …'; "
        "unified diff lines for a file that is not YAML/JSON/TOML.",
    )


class ConfigDiffOutput(ToolOutput):
    commit: str
    base: str | None = Field(description="The commit compared against; null: the empty tree.")
    commit_live_steps: list[int]
    base_live_steps: list[int]
    files: list[FileView]
    lines: list[str] = Field(
        description="Structural lines 'path: key old → new' / 'path: inputs: + reasoning'; "
        "unified diff lines (indented) for files that are not YAML/JSON/TOML."
    )
    effects: list[EffectView]

    def render(self) -> str:
        """The changes grouped under each file's title (values cut at `MAX_VALUE_CHARS`;
        the JSON output and the chat's Config tab show them whole)."""
        base = label(self.base[:10]) if self.base else "(empty tree)"
        commit = label(self.commit[:10])
        out = [
            f"{diff_title(self)}; {commit} {steps_text(self.commit_live_steps)}"
            + (f", {base} {steps_text(self.base_live_steps)}" if self.base else "")
        ]
        shown = 0
        for f in self.files:
            out.append(inline(f.title) + (":" if f.changes else ""))
            for change in f.changes:
                if shown == MAX_RENDERED_LINES:
                    break
                out.append("  " + inline(_cut(change)))
                shown += 1
        left = sum(len(f.changes) for f in self.files) - shown
        if left > 0:
            out.append(f"… {left} more changes (see --json)")
        if self.effects:
            out.append("in short:")
            out += [f"  * {e.line()}" for e in self.effects]
        return "\n".join(out)

    def figures(self) -> dict[str, Figure]:
        first = self.commit_live_steps[0] if self.commit_live_steps else None
        return {
            "files_changed": len(self.files),
            "changes": len(self.lines),
            "commit_live_step": first,
            "exposes_reasoning": any(e.exposes_reasoning for e in self.effects),
        }

    def subjects(self) -> list[Subject]:
        return change_subjects(self.commit, self.effects)


def diff_title(output: ConfigDiffOutput) -> str:
    """`diff 1a2b3c → 4d5e6f: 1 file changed`."""
    base = label(output.base[:10]) if output.base else "(empty tree)"
    count = len(output.files)
    return f"diff {base} → {label(output.commit[:10])}: {count} file{'s' * (count != 1)} changed"


def _cut(change: str) -> str:
    return change if len(change) <= 2 * MAX_VALUE_CHARS else change[: 2 * MAX_VALUE_CHARS - 1] + "…"


@tool("config_diff")
def config_diff(ctx: ToolContext, args: ConfigDiffInput) -> ConfigDiffOutput:
    """Show what a config commit changed, against its parent or a given `base`: for YAML, JSON
    and TOML files a structural diff by key path (`rewards/x.yaml: weight 0.5 → 1.0`,
    `inputs: + reasoning`, added/removed keys, list items), for other files a line diff, plus a
    short summary (weights, grader inputs, new components or data sources) and the step each
    side went live. Use it on commits picked from `config_history` or `event_alignment`."""
    with history_of(ctx) as history:
        diff = history.diff(args.commit, args.base)
        return ConfigDiffOutput(
            commit=diff.commit,
            base=diff.base,
            commit_live_steps=list(history.live_steps(diff.commit)),
            base_live_steps=list(history.live_steps(diff.base)) if diff.base else [],
            files=[
                FileView(
                    path=f.path,
                    status=f.status,
                    structural=f.structural,
                    title=f.title,
                    changes=f.body(limit=None),
                )
                for f in diff.files
            ],
            lines=diff.lines(),
            effects=effect_views(diff),
        )
