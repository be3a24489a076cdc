"""A framework registered from outside the tree, as a lab would write it (issue 22, Build 4).

Its logs: a folder holding `toy_log.jsonl`, one line per sample
`{"iter": 3, "question": "...", "answer": "...", "scores": {"style": 0.5}}`; its config: a
YAML file with a `toy_rewards` mapping of component -> weight. `tests/store/test_frameworks.py`
registers `FRAMEWORK` through a fake entry point in the group `rootcause.frameworks`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rootcause.core.config_effects import ConfigChange, Effect
from rootcause.store.framework import Framework, FrameworkOption
from rootcause.store.importers import load_json_lines
from rootcause.store.source import LoadContext, RunSource

LOG = "toy_log.jsonl"


class ToyReader:
    name: str
    nan_means_missing: frozenset[str] = frozenset()
    appendable = False

    def detect(self, path: Path) -> bool:
        return path.is_dir() and (path / LOG).is_file()

    def describe(self, path: Path) -> RunSource:
        return RunSource(format=self.name, root=path, run_id=path.name, files=[path / LOG])

    def load(self, source: RunSource, ctx: LoadContext) -> None:
        def record(obj: Mapping[str, Any]) -> dict[str, Any]:
            return {
                "step": obj["iter"],
                "prompt": obj["question"],
                "completion": obj["answer"],
                "rewards": dict(obj["scores"]),
            }

        load_json_lines(ctx, source.root / LOG, LOG, record)
        ctx.notes.append("toy-rl: one sample per line of toy_log.jsonl")


class ToyConfig:
    def recognises(self, doc: Any) -> bool:
        return isinstance(doc, dict) and isinstance(doc.get("toy_rewards"), dict)

    def weights(self, doc: Any) -> dict[str, float] | None:
        return {str(k): float(v) for k, v in doc["toy_rewards"].items()}

    def effects(
        self, path: str, old_doc: Any, new_doc: Any, changes: Sequence[ConfigChange]
    ) -> list[Effect]:
        out = []
        for change in changes:
            if change.path[:1] == ("toy_rewards",) and len(change.path) == 2:
                out.append(Effect("weight", change.path[1], change.describe(), path))
            else:
                out.append(Effect("other", path, change.describe(), path))
        return out


FRAMEWORK = Framework(
    name="toy-rl",
    title="Toy RL",
    reader_spec=ToyReader,
    reads="`toy_log.jsonl`",
    config=ToyConfig(),
    options=(FrameworkOption("group_size", "samples per group"),),
)


class _BrokenReader(ToyReader):
    def detect(self, path: Path) -> bool:
        raise RuntimeError("toy detector crashed")


class _BrokenConfig(ToyConfig):
    def recognises(self, doc: Any) -> bool:
        raise RuntimeError("toy config reader crashed")


#: A plugin whose own code fails while looking at runs and configs.
BROKEN = Framework(
    name="broken-rl", title="Broken", reader_spec=_BrokenReader, config=_BrokenConfig()
)
