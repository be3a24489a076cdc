"""A brain registers its memo: the checkpointed state imports no brain, and a checkpoint is
read back as its brain's own memo type (in a fresh process, before any brain is built)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rootcause.investigate.state import InvestigationSpec, InvestigationState
from rootcause.investigate.systematic.memo import SystematicMemo


def _state() -> InvestigationState:
    spec = InvestigationSpec(id="x", run="r", symptom="s", created="now")
    return InvestigationState(spec=spec, memo=SystematicMemo())


def test_the_state_imports_no_brain() -> None:
    code = (
        "import sys\n"
        "import rootcause.investigate.state\n"
        "loaded = [m for m in sys.modules if m.startswith(('rootcause.investigate.llm', "
        "'rootcause.investigate.systematic'))]\n"
        "assert not loaded, loaded\n"
    )
    root = Path(__file__).parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_checkpoint_is_read_back_as_its_brains_memo() -> None:
    dumped = _state().model_dump_json()
    code = (
        "import sys\n"
        "import rootcause.investigate.job\n"
        "from rootcause.investigate.state import InvestigationState\n"
        "state = InvestigationState.model_validate_json(sys.stdin.read())\n"
        "print(type(state.memo).__module__, type(state.memo).__name__)\n"
    )
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, input=dumped, capture_output=True, text=True
    )
    assert done.stdout.split() == ["rootcause.investigate.systematic.memo", "SystematicMemo"]


def test_a_memo_no_brain_registered_is_refused() -> None:
    data = _state().model_dump(mode="json")
    data["memo"]["brain"] = "oracle"
    with pytest.raises(ValueError, match="no brain registered a memo tagged 'oracle'"):
        InvestigationState.model_validate(data)
