"""`written_via_temp`: a file is replaced whole or not at all, a failed write leaves nothing
behind, and each writing thread has a temporary name of its own that the leftover cleanup
knows."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from rootcause.core.disk import TEMP_NAME, written_via_temp


def test_the_file_is_replaced_when_the_block_ends(tmp_path: Path) -> None:
    path = tmp_path / "new" / "report.json"  # its folder is made
    with written_via_temp(path) as tmp:
        tmp.write_text("half")
        assert not path.exists()  # a reader sees nothing until it is whole
        tmp.write_text("whole")
    assert path.read_text() == "whole"
    assert [p.name for p in path.parent.iterdir()] == ["report.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")
    with pytest.raises(ValueError, match="boom"), written_via_temp(path) as tmp:
        tmp.write_text("new, half")
        raise ValueError("boom")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_each_thread_writes_its_own_temporary_named_for_the_cleanup(tmp_path: Path) -> None:
    path = tmp_path / "overview.json"
    names: list[str] = []

    def note_name() -> None:
        with written_via_temp(path) as tmp:
            names.append(tmp.name)
            tmp.write_text("{}")

    note_name()
    other = threading.Thread(target=note_name)
    other.start()
    other.join()
    assert len(set(names)) == 2
    assert all(TEMP_NAME.match(name) for name in names)
