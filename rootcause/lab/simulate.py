"""The training loop: sample contexts and traits, render text, grade it, step the policy.

Each step reads the config live at that step (from git), samples `groups` prompts with their
context (persona, data source, env) from the live mixture, draws `group_size` completions per
prompt from the policy, renders them as text, scores them with the live graders, computes
group-relative advantages and takes a policy-gradient step. Random streams are derived per
(step, purpose), so a rerun with a changed config keeps the same noise wherever it can.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rootcause.core.errors import BadInputError
from rootcause.lab.catalogue import bug_index
from rootcause.lab.configrepo import LiveConfig, read_config
from rootcause.lab.graders import score
from rootcause.lab.hint import Hint
from rootcause.lab.injections import plant
from rootcause.lab.plan import Scenario
from rootcause.lab.policy import TRAITS, Policy, T, bernoulli_kl, sigmoid
from rootcause.lab.render import render_prompts, render_samples
from rootcause.lab.writer import MetricsWriter, SampleWriter

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


@dataclass
class SimStats:
    """What the loop observed: samples written and, with a hint, behaviour counts per step."""

    samples: int = 0
    hits: list[int] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    trait_rates: list[list[float]] = field(default_factory=list)


def _rng(scn: Scenario, purpose: int, step: int) -> np.random.Generator:
    seq = np.random.SeedSequence([scn.seed, bug_index(scn.bug), purpose, step])
    return np.random.default_rng(seq)


def simulate(
    scn: Scenario,
    repo_dir: Path,
    shas: list[str],
    run_dir: Path,
    samples_format: str,
    hint: Hint | None = None,
    progress: Progress | None = None,
) -> SimStats:
    """Run the loop and stream samples and metrics into `run_dir`."""
    names = scn.names
    configs = {sha: read_config(repo_dir, sha) for sha in dict.fromkeys(shas)}
    deploy_steps = [pc.step for pc in scn.plan]
    sources = list(names.sources)
    src_index = {s.name: i for i, s in enumerate(sources)}
    personas = list(names.personas)
    envs = sorted({s.env for s in sources})
    env_index = {e: i for i, e in enumerate(envs)}
    policy = Policy.init(
        _rng(scn, 1, 0), len(personas), len(sources), len(envs), lr_scale=200.0 / scn.steps
    )
    for src, boosts in scn.source_boost.items():
        for trait, value in boosts.items():
            policy.source[src_index[src], T[trait]] += value
    for env_name, boosts in scn.env_boost.items():
        for trait, value in boosts.items():
            policy.env[env_index[env_name], T[trait]] += value
    for persona, boosts in scn.persona_boost.items():
        for trait, value in boosts.items():
            policy.persona[personas.index(persona), T[trait]] += value
    policy.set_anchor()
    start = Policy(
        policy.shared.copy(),
        policy.persona.copy(),
        policy.source.copy(),
        policy.env.copy(),
        0.0,
        0.0,
        0.0,
    )
    writer = SampleWriter(run_dir / "samples", samples_format, scn.omit)
    metrics = MetricsWriter(run_dir / "metrics.jsonl")
    stats = SimStats()
    sample_no = 0
    G = scn.group_size
    try:
        for step in range(scn.steps):
            cfg = configs[shas[bisect.bisect_right(deploy_steps, step) - 1]]
            rows, extra = _step(
                scn,
                cfg,
                policy,
                start,
                step,
                sources,
                src_index,
                personas,
                env_index,
                sample_no,
                hint,
            )
            sample_no += len(rows)
            if scn.injection_decoy is not None:
                plant(rows, scn.seed, scn.bug, step, scn.injection_decoy, hint)
            writer.write(rows)
            metrics.write(step, extra["metrics"])
            if hint is not None:
                stats.hits.append(extra["hits"])
                stats.totals.append(len(rows))
            stats.trait_rates.append(extra["traits"])
            if progress is not None:
                progress(step + 1, scn.steps)
    finally:
        writer.close()
        metrics.close()
    stats.samples = sample_no
    del G
    return stats


@dataclass
class _Groups:
    """One step's groups: each group's source and persona, its prompts, and for each sample
    its group and the policy's persona, source and env indices."""

    sources: list[Any]
    personas: list[str]
    prompts: Any
    group_of: np.ndarray
    p_idx: np.ndarray
    s_idx: np.ndarray
    e_idx: np.ndarray


@dataclass
class _Grades:
    """Each component's scores (NaN where it does not apply) and logged grader inputs, the
    weighted total and the group-standardised advantages."""

    scores: dict[str, np.ndarray]
    texts: dict[str, list[str | None]]
    total: np.ndarray
    adv: np.ndarray


def _step(
    scn: Scenario,
    cfg: LiveConfig,
    policy: Policy,
    start: Policy,
    step: int,
    sources: list[Any],
    src_index: dict[str, int],
    personas: list[str],
    env_index: dict[str, int],
    sample_no: int,
    hint: Hint | None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Simulate one training step: draw the groups from the live mixture, sample, grade, update
    the policy; the step's sample rows and its metrics."""
    groups = _draw_groups(scn, cfg, step, sources, src_index, personas, env_index)
    probs = sigmoid(policy.logits(groups.p_idx, groups.s_idx, groups.e_idx))
    bits = _rng(scn, 4, step).random(probs.shape) < probs
    reasonings, completions = render_samples(
        _rng(scn, 5, step), scn.names, bits, groups.group_of, groups.sources, groups.prompts
    )
    grades = _grade(scn, cfg, step, groups, reasonings, completions)
    drift = None
    if scn.drift is not None and step >= scn.drift[0]:
        drift = np.zeros(len(TRAITS))
        drift[T["tic"]] = scn.drift[1]
    policy.update(
        bits.astype(float),
        probs,
        grades.adv,
        groups.p_idx,
        groups.s_idx,
        groups.e_idx,
        _rng(scn, 7, step),
        drift,
    )
    rows = _rows(scn, step, sample_no, groups, grades, reasonings, completions)
    ref_probs = sigmoid(start.logits(groups.p_idx, groups.s_idx, groups.e_idx))
    hits = 0
    if hint is not None:
        hits = sum(hint.match_all(reasonings if hint.field == "reasoning" else completions))
    metrics = _metrics(grades, probs, ref_probs, completions)
    return rows, {"metrics": metrics, "hits": hits, "traits": bits.mean(axis=0).tolist()}


def _draw_groups(
    scn: Scenario,
    cfg: LiveConfig,
    step: int,
    sources: list[Any],
    src_index: dict[str, int],
    personas: list[str],
    env_index: dict[str, int],
) -> _Groups:
    """Each group's source and persona drawn from the live mixture, and its prompt."""
    live = [(n, w) for n, w in sorted(cfg.sources.items()) if w > 0 and n in src_index]
    live_p = [(n, w) for n, w in sorted(cfg.personas.items()) if w > 0 and n in personas]
    if not live or not live_p:
        raise BadInputError(f"step {step}: the live mixture has no known source or persona")
    n_groups = scn.groups
    ctx = _rng(scn, 2, step)
    sw = np.array([w for _, w in live])
    pw = np.array([w for _, w in live_p])
    g_src = [src_index[live[i][0]] for i in ctx.choice(len(live), n_groups, p=sw / sw.sum())]
    g_per = [
        personas.index(live_p[i][0]) for i in ctx.choice(len(live_p), n_groups, p=pw / pw.sum())
    ]
    g_sources = [sources[i] for i in g_src]
    g_personas = [personas[i] for i in g_per]
    prompts = render_prompts(
        _rng(scn, 3, step), scn.names, g_sources, g_personas, scn.eliciting, scn.contaminated
    )
    group_of = np.repeat(np.arange(n_groups), scn.group_size)
    return _Groups(
        g_sources,
        g_personas,
        prompts,
        group_of,
        np.array(g_per)[group_of],
        np.array(g_src)[group_of],
        np.array([env_index[sources[i].env] for i in g_src])[group_of],
    )


def _grade(
    scn: Scenario,
    cfg: LiveConfig,
    step: int,
    groups: _Groups,
    reasonings: list[str],
    completions: list[str],
) -> _Grades:
    """Every live component's scores on the samples it applies to, the weighted total and the
    group-standardised advantages."""
    n, n_groups, prompts = len(completions), scn.groups, groups.prompts
    rows_in = [
        {
            "prompt": prompts.text[g],
            "reasoning": reasonings[i],
            "completion": completions[i],
            "reference": prompts.reference[g],
        }
        for i, g in enumerate(groups.group_of.tolist())
    ]
    grade_rng = _rng(scn, 6, step)
    total = np.zeros(n)
    scores: dict[str, np.ndarray] = {}
    texts: dict[str, list[str | None]] = {}
    for comp in cfg.components:
        applies = np.array(
            [
                comp.applies(groups.personas[g], groups.sources[g].name, groups.sources[g].env)
                for g in range(n_groups)
            ]
        )[groups.group_of]
        idx = np.flatnonzero(applies)
        full = np.full(n, np.nan)
        logged: list[str | None] = [None] * n
        if len(idx):
            sub, sub_texts = score(
                comp, [rows_in[i] for i in idx], grade_rng, scn.checkpoints, scn.default_pm
            )
            full[idx] = sub
            for j, i in enumerate(idx.tolist()):
                logged[i] = sub_texts[j]
        scores[comp.name] = full
        texts[comp.name] = logged
        total += comp.weight * np.nan_to_num(full)
    R = total.reshape(n_groups, scn.group_size)
    sd = R.std(axis=1, keepdims=True)
    adv = np.where(sd > 1e-6, (R - R.mean(axis=1, keepdims=True)) / (sd + 1e-6), 0.0).ravel()
    return _Grades(scores, texts, total, adv)


def _rows(
    scn: Scenario,
    step: int,
    sample_no: int,
    groups: _Groups,
    grades: _Grades,
    reasonings: list[str],
    completions: list[str],
) -> list[dict[str, Any]]:
    """The step's sample rows in the native format (the scenario's omitted fields left out)."""
    rows: list[dict[str, Any]] = []
    comp_names = list(grades.scores)
    score_lists = {c: grades.scores[c].tolist() for c in comp_names}
    adv_l, total_l = grades.adv.tolist(), grades.total.tolist()
    for i, g in enumerate(groups.group_of.tolist()):
        rewards = {
            c: round(score_lists[c][i], 4) + 0.0
            for c in comp_names
            if score_lists[c][i] == score_lists[c][i]
        }
        gi = {c: t for c in comp_names if (t := grades.texts[c][i]) is not None}
        row: dict[str, Any] = {
            "step": step,
            "sample_id": f"s-{sample_no + i:07d}",
            "group_id": f"g-{step}-{g}",
            "split": "train",
            "data_source": groups.sources[g].name,
            "persona": groups.personas[g],
            "env": groups.sources[g].env,
            "prompt": groups.prompts.text[g],
            "reasoning": reasonings[i],
            "completion": completions[i],
        }
        if groups.prompts.reference[g] is not None:
            row["reference"] = groups.prompts.reference[g]
        row["rewards"] = rewards
        row["reward_total"] = round(total_l[i], 4)
        row["advantage"] = round(adv_l[i], 4)
        row["grader_inputs"] = gi
        row["meta"] = {"num_tokens": (len(completions[i]) + len(reasonings[i])) // 4}
        for key in scn.omit:
            row.pop(key, None)
        rows.append(row)
    return rows


def _metrics(
    grades: _Grades, probs: np.ndarray, ref_probs: np.ndarray, completions: list[str]
) -> dict[str, float]:
    """The step's logged metrics: reward mean and spread, KL to the start, entropy, length,
    and each component's mean where it applied."""
    total = grades.total
    ent = -(probs * np.log(probs + 1e-9) + (1 - probs) * np.log(1 - probs + 1e-9)).sum(1).mean()
    m: dict[str, float] = {
        "reward/mean": float(total.mean()),
        "reward/std": float(total.std()),
        "kl": bernoulli_kl(probs, ref_probs),
        "entropy": float(ent),
        "response_length/mean": float(np.mean([len(c.split()) for c in completions])),
    }
    for c, values in grades.scores.items():
        vals = values[~np.isnan(values)]
        if len(vals):
            m[f"reward/{c}"] = float(vals.mean())
    return m
