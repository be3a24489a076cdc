"""`judge:QUESTION` behaviours: a yes/no question the configured LLM answers per sample.

A judge call costs tokens and time, so, like `semantic:`, only the run's stratified sample is
evaluated (`search.sampling`, at most `JUDGE_SAMPLE` rows, or ROOTCAUSE_JUDGE_SAMPLE): every row
has the same inclusion probability, rates over the evaluated rows are unbiased, and rows outside
the sample are unknown (`evaluated` says which rows were asked). A sample is a hit when the
judge answers yes (the threshold is one yes out of one question). Answers are cached in the
workspace by model, question and sample id (`judge/<model hash>.json` beside the run's
database), so a question is never asked twice about the same sample.

This layer defines only the `Judge` interface (`behaviour.context`); a brain with a configured
LLM sets `ctx.judge`. Without one, a `judge:` behaviour is a one-line error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rootcause.behaviour.behavior import Behavior
from rootcause.behaviour.context import Judge, RunContext
from rootcause.core.disk import written_via_temp
from rootcause.core.errors import BadInputError
from rootcause.search.sampling import stratified_sample

logger = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]

SAMPLE_ENV = "ROOTCAUSE_JUDGE_SAMPLE"
#: Rows of the stratified sample the judge is asked about.
JUDGE_SAMPLE = 300
#: Texts per judge call, and the characters of each text shown.
BATCH = 20
MAX_CHARS = 2000

NO_JUDGE = (
    "judge: behaviours need a configured LLM (run the llm brain with --model or --base-url, "
    "or set ROOTCAUSE_LLM_MODEL); use regex:, terms: or semantic: otherwise"
)


@dataclass(frozen=True)
class JudgeResult:
    """The judge's answers on the sample: hits and evaluated rows over all rows."""

    spec: str
    model: str
    sample_size: int
    yes: int
    asked: int  # answers not found in the cache
    hits: BoolArray
    evaluated: BoolArray

    def describe(self) -> str:
        return (
            f"{self.model} answered yes for {self.yes} of {self.sample_size} sampled texts "
            f"(hit = one yes; {self.asked} asked now, the rest from the workspace cache)"
        )


def _sample_size() -> int:
    raw = os.environ.get(SAMPLE_ENV)
    if raw is None:
        return JUDGE_SAMPLE
    try:
        return max(int(raw), 1)
    except ValueError:
        raise BadInputError(f"{SAMPLE_ENV}={raw!r}: expected a whole number") from None


class _Cache:
    """Answers by question and sample id, one JSON file per model."""

    def __init__(self, folder: Path, model: str):
        digest = hashlib.sha256(model.encode()).hexdigest()[:12]
        self.path = folder / f"{digest}.json"
        self.answers: dict[str, bool] = {}
        if self.path.is_file():
            try:
                loaded = json.loads(self.path.read_text())
                self.answers = {str(k): bool(v) for k, v in loaded.get("answers", {}).items()}
            except (OSError, ValueError, AttributeError):
                logger.warning("ignoring an unreadable judge cache %s", self.path)
        self.model = model

    @staticmethod
    def key(question: str, sample_id: str) -> str:
        return hashlib.sha256(f"{question}\x00{sample_id}".encode()).hexdigest()[:24]

    def save(self) -> None:
        with written_via_temp(self.path) as tmp:
            tmp.write_text(json.dumps({"model": self.model, "answers": self.answers}))


def judge_result(ctx: RunContext, behavior: Behavior) -> JudgeResult:
    """Ask (or read from the cache) the judge about the sample (memoised per context)."""
    if behavior.kind != "judge":
        raise BadInputError(f"behaviour {behavior.spec!r} is not a judge: behaviour")
    judge = ctx.judge
    if judge is None:
        raise BadInputError(NO_JUDGE)
    return ctx.memo(("judge", behavior.spec, judge.model), lambda: _evaluate(ctx, behavior, judge))


def _evaluate(ctx: RunContext, behavior: Behavior, judge: Judge) -> JudgeResult:
    sample = stratified_sample(ctx.con, behavior.field, _sample_size())
    rows = sample.text_rows
    found = ctx.con.execute(
        f"SELECT row_idx, coalesce(sample_id, row_idx::VARCHAR), "
        f"left({behavior.field}, {MAX_CHARS}) FROM samples "
        "WHERE list_contains(?, row_idx) ORDER BY row_idx",
        [rows.tolist()],
    ).fetchall()
    question = behavior.body.strip()
    cache = _Cache(ctx.db_path.parent / "judge", judge.model)
    keys = [cache.key(question, str(sid)) for _, sid, _ in found]
    todo = [i for i, k in enumerate(keys) if k not in cache.answers]
    for start in range(0, len(todo), BATCH):
        chunk = todo[start : start + BATCH]
        answers = judge.answer(question, [str(found[i][2]) for i in chunk])
        if len(answers) != len(chunk):
            raise BadInputError(f"the judge gave {len(answers)} answers for {len(chunk)} texts")
        cache.answers.update({keys[i]: bool(a) for i, a in zip(chunk, answers, strict=True)})
    if todo:
        cache.save()
    hits = np.zeros(sample.total, dtype=bool)
    evaluated = np.zeros(sample.total, dtype=bool)
    evaluated[sample.rows] = True
    yes_rows = [int(r[0]) for r, k in zip(found, keys, strict=True) if cache.answers[k]]
    hits[yes_rows] = True
    result = JudgeResult(
        behavior.spec, judge.model, len(found), len(yes_rows), len(todo), hits, evaluated
    )
    logger.info("judge %s: %s", behavior.spec, result.describe())
    return result
