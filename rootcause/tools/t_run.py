"""Tools that look at the run as it is: overview, samples, sql."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field

from rootcause.core.evidence import Figure
from rootcause.core.run import RunOverview
from rootcause.tools.base import ToolInput, ToolOutput, quote, tool
from rootcause.tools.context import ToolContext
from rootcause.tools.matching import behavior_sql, check_regex, resolve
from rootcause.tools.sandbox import run_readonly_sql


class OverviewInput(ToolInput):
    pass


class OverviewOutput(RunOverview, ToolOutput):
    def render(self) -> str:
        def counts(d: dict[str, int]) -> str:
            return ", ".join(f"{k} {v:,}" for k, v in d.items()) or "(none)"

        lines = [
            f"run {self.run_id}: {self.samples:,} samples, {self.groups:,} groups, "
            f"steps {self.first_step}..{self.last_step}",
            f"personas: {counts(self.personas)}",
            f"data sources: {counts(self.data_sources)}",
            f"envs: {counts(self.envs)}",
            f"reward components: {', '.join(self.components) or '(none)'}",
            f"graders with logged inputs: {', '.join(self.graders_with_inputs) or '(none)'}",
            f"reasoning logged: {self.has_reasoning}; advantage logged: {self.has_advantage}",
            "deployments:",
            *(f"  step {d.step}: {d.commit[:10]} {d.message or ''}" for d in self.deployments),
            *(f"note: {n}" for n in self.notes),
        ]
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        return {
            "samples": self.samples,
            "first_step": self.first_step,
            "last_step": self.last_step,
            "components": len(self.components),
            "deployments": len(self.deployments),
        }


@tool("overview")
def overview(ctx: ToolContext, args: OverviewInput) -> OverviewOutput:
    """What the run contains: steps, sample counts, personas, data sources, envs, reward
    components, graders whose inputs were logged, and the config commits deployed at each step.
    Call this first to learn the names every other tool accepts."""
    return OverviewOutput.model_validate(ctx.store.overview().model_dump())


class SamplesInput(ToolInput):
    behavior: str | None = Field(
        None, description="Only samples showing this behaviour spec (e.g. terms:goblin)."
    )
    regex: str | None = Field(None, description="Only samples whose completion matches (RE2).")
    similar: str | None = Field(
        None, description="Rank by semantic similarity of the completion to this text."
    )
    step_min: int | None = None
    step_max: int | None = None
    persona: str | None = None
    data_source: str | None = None
    env: str | None = None
    limit: int = Field(5, ge=1, le=50)


class SampleView(BaseModel):
    sample_id: str
    step: int
    persona: str | None
    data_source: str | None
    env: str | None
    rewards: dict[str, float | None]
    completion: str
    reasoning: str | None
    score: float | None = None


class SamplesOutput(ToolOutput):
    matched: int
    samples: list[SampleView]

    def render(self) -> str:
        lines = [f"{self.matched:,} samples match; showing {len(self.samples)}"]
        for s in self.samples:
            rewards = ", ".join(f"{k}={v:.3g}" for k, v in s.rewards.items() if v is not None)
            score = f" similarity={s.score:.3f}" if s.score is not None else ""
            lines.append(
                f"- step {s.step} persona={s.persona} source={s.data_source} env={s.env}"
                f"{score} rewards: {rewards}"
            )
            lines.append(f"  completion: {quote(s.completion, s.sample_id)}")
            if s.reasoning:
                lines.append(f"  reasoning: {quote(s.reasoning, s.sample_id)}")
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        return {"matched": self.matched, "shown": len(self.samples)}


@tool("samples")
def samples(ctx: ToolContext, args: SamplesInput) -> SamplesOutput:
    """Show example samples (text quoted as untrusted data), filtered by step range, persona,
    data source, env, a behaviour spec or a regex, or ranked by semantic similarity to a text.
    Use it to read what the behaviour actually looks like before trusting a detector."""
    where: list[str] = []
    params: list[Any] = []
    if args.behavior:
        behavior = resolve(args.behavior)
        if behavior.kind == "semantic":
            from rootcause.tools.matching import behavior_hits

            hits = behavior_hits(ctx, behavior)
            ctx.con.register("semantic_hits", pa.table({"row_idx": np.flatnonzero(hits)}))
            where.append("row_idx IN (SELECT row_idx FROM semantic_hits)")
        else:
            if behavior.kind != "words":
                check_regex(ctx, behavior.regex())
            expr, p = behavior_sql(behavior)
            where.append(expr)
            params += p
    if args.regex:
        check_regex(ctx, args.regex)
        where.append("regexp_matches(completion, ?)")
        params.append(args.regex)
    for column, value in (
        ("persona", args.persona),
        ("data_source", args.data_source),
        ("env", args.env),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if args.step_min is not None:
        where.append("step >= ?")
        params.append(args.step_min)
    if args.step_max is not None:
        where.append("step <= ?")
        params.append(args.step_max)
    clause = " AND ".join(where) or "TRUE"
    matched = ctx.con.execute(f"SELECT count(*) FROM samples WHERE {clause}", params).fetchall()
    scores: dict[int, float] = {}
    if args.similar:
        from rootcause.tools.semantic import similar_rows

        scores = similar_rows(ctx, args.similar, clause, params, args.limit)
        order = "ORDER BY row_idx"
        clause += f" AND row_idx IN ({', '.join(str(r) for r in scores) or 'NULL'})"
    else:
        # A spread over the run, not only its first steps: deterministic hash order.
        order = "ORDER BY hash(sample_id)"
    rows = ctx.con.execute(
        f"SELECT row_idx, sample_id, step, persona, data_source, env, completion, reasoning "
        f"FROM samples WHERE {clause} {order} LIMIT {args.limit}",
        params,
    ).fetchall()
    rewards = _rewards_of(ctx, [r[0] for r in rows])
    views = [
        SampleView(
            sample_id=r[1],
            step=r[2],
            persona=r[3],
            data_source=r[4],
            env=r[5],
            completion=r[6],
            reasoning=r[7],
            rewards=rewards.get(r[0], {}),
            score=scores.get(r[0]),
        )
        for r in rows
    ]
    if scores:
        views.sort(key=lambda v: -(v.score or 0.0))
    if ctx.con.execute("SELECT 1 FROM duckdb_views() WHERE view_name = 'semantic_hits'").fetchall():
        ctx.con.unregister("semantic_hits")
    return SamplesOutput(matched=int(matched[0][0]), samples=views)


def _rewards_of(ctx: ToolContext, row_ids: list[int]) -> dict[int, dict[str, float | None]]:
    if not row_ids:
        return {}
    found = ctx.con.execute(
        "SELECT row_idx, component, value FROM rewards WHERE row_idx IN "
        f"({', '.join(str(int(i)) for i in row_ids)}) ORDER BY component"
    ).fetchall()
    out: dict[int, dict[str, float | None]] = {}
    for row_idx, component, value in found:
        out.setdefault(row_idx, {})[component] = value
    return out


class SqlInput(ToolInput):
    query: str = Field(description="One read-only SQL query (DuckDB dialect).")
    max_rows: int = Field(50, ge=1, le=1000)
    timeout_s: float = Field(10.0, gt=0, le=120)


class SqlOutput(ToolOutput):
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool

    def render(self) -> str:
        def cell(value: Any) -> str:
            text = "" if value is None else str(value)
            return text if len(text) <= 80 else quote(text, limit=80)

        lines = [" | ".join(self.columns)]
        lines += [" | ".join(cell(v) for v in row) for row in self.rows]
        if self.truncated:
            lines.append(f"(first {len(self.rows)} rows shown; more exist)")
        return "\n".join(lines)

    def figures(self) -> dict[str, Figure]:
        figures: dict[str, Figure] = {"rows": len(self.rows)}
        if len(self.rows) == 1:
            for name, value in zip(self.columns, self.rows[0], strict=True):
                if isinstance(value, int | float | str | bool) or value is None:
                    figures[name] = value
        return figures


@tool("sql")
def sql(ctx: ToolContext, args: SqlInput) -> SqlOutput:
    """Run one read-only SQL query over the run's tables. Tables: samples(row_idx, sample_id,
    step, group_id, split, data_source, persona, env, prompt, reasoning, completion, reference,
    reward_total, advantage, meta, extras, source_file, source_row), rewards(row_idx, component,
    value), grader_inputs(row_idx, component, text), deployments(step, commit, message, author,
    committed_at), config_weights(commit, component, weight), metrics(step, name, value).
    No file access, no writes; rows and time are limited."""
    columns, rows, truncated = run_readonly_sql(
        ctx.db_path, args.query, args.max_rows, args.timeout_s
    )
    return SqlOutput(columns=columns, rows=[list(r) for r in rows], truncated=truncated)
