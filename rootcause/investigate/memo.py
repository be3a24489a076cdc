"""What a brain keeps between steps (`BrainMemo`), registered by the brain that keeps it.

The memo is part of the checkpointed state, so a checkpoint must be read back as the memo's own
type: each brain's memo subclasses `BrainMemo` with a `brain` tag and registers itself
(`@brain_memo`); the brain registry (`investigate/job.py`) says which module defines each
brain's memo, imported when a checkpoint holding it is read before the brain is built. The
state imports no brain.
"""

from __future__ import annotations

import importlib
from typing import TypeVar

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from rootcause.core.report import LLMReportMeta


class BrainMemo(BaseModel):
    """A brain's memo; subclasses narrow `brain` to their tag."""

    brain: str

    def report_meta(self) -> LLMReportMeta | None:
        """What the report's `meta.llm` says of the brain's run (None: nothing)."""
        return None


MEMO_TYPES: dict[str, type[BrainMemo]] = {}
MEMO_MODULES: dict[str, str] = {}

M = TypeVar("M", bound=BrainMemo)


def brain_memo(cls: type[M]) -> type[M]:
    """Register `cls` as the memo of the brain its `brain` field's default names."""
    fields: dict[str, FieldInfo] = cls.__pydantic_fields__
    tag = fields["brain"].default
    if not isinstance(tag, str):
        raise TypeError(f"{cls.__name__}.brain needs a default tag")
    MEMO_TYPES[tag] = cls
    return cls


def memo_module(brain: str, module: str) -> None:
    """Say which module defines `brain`'s memo (imported on first need)."""
    MEMO_MODULES[brain] = module


def memo_type(brain: str) -> type[BrainMemo]:
    """The memo type of `brain`; ValueError when no brain registered one."""
    if brain not in MEMO_TYPES and brain in MEMO_MODULES:
        importlib.import_module(MEMO_MODULES[brain])
    if brain not in MEMO_TYPES:
        raise ValueError(f"no brain registered a memo tagged {brain!r}")
    return MEMO_TYPES[brain]
