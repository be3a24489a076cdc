"""`/export [PATH]`: a session as one Markdown file with its plots beside it.

The plots are copied next to the document (`<name>-plots/`) and linked relatively, so the
folder can be moved or attached as it is. Nothing is written into the run folder or its
config repository (the path is refused in one line), and the default is the session's own
folder.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from rootcause.chat.entries import ChatEntry
from rootcause.chat.sessions import ChatSession
from rootcause.chat.transcript import entry_markdown
from rootcause.core.disk import written_via_temp
from rootcause.core.errors import BadInputError
from rootcause.store.workspace import guard_output

EXPORT_NAME = "export.md"


def export_session(
    chat: ChatSession,
    entries: Iterable[ChatEntry],
    path: Path | None,
    protected: Sequence[Path | None],
) -> Path:
    """Write the session's entries to `path` (a `.md` file, or a folder to put
    `<session>.md` in; default the session's folder) and return where it went."""
    if path is None:
        target = chat.folder / EXPORT_NAME
    else:
        target = path / f"{chat.id}.md" if path.is_dir() else path
        target = guard_output(target, protected, "/export")
        if target.suffix.lower() != ".md":
            raise BadInputError(f"/export {path}: give a .md file or a folder")
    plots = target.with_name(f"{target.stem}-plots")

    def link(png: str) -> str | None:
        source = Path(png)
        if not source.is_file():
            return None
        plots.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, plots / source.name)
        return f"{plots.name}/{source.name}"

    meta = chat.meta
    head = [
        f"# rootcause chat session {meta.id}",
        "",
        f"Run `{meta.run_id}` ({meta.run}); started {meta.created}; brain {meta.brain}.",
    ]
    body = [entry_markdown(entry, chat.folder, link) for entry in entries]
    text = "\n\n".join([*head, *(b for b in body if b)]) + "\n"
    try:
        with written_via_temp(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInputError(f"/export {target}: {exc.strerror or exc}") from None
    return target
