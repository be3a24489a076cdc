"""Opening a chat: a new session on a run, or a session resumed (its run ingested or
reused, its folder locked)."""

from __future__ import annotations

import time
from pathlib import Path

from rootcause.chat.catalog import SessionMeta, new_session_id
from rootcause.chat.sessions import ChatSession
from rootcause.chat.settings import ChatSettings, OpenRequest
from rootcause.core.errors import BadInputError
from rootcause.investigate.options import stored_form
from rootcause.store.ingest import IngestResult
from rootcause.store.ingest_job import IngestEventSink, IngestRequest, run_ingest
from rootcause.store.workspace import Workspace


def open_session(
    workspace: Workspace,
    request: OpenRequest,
    settings: ChatSettings,
    on_event: IngestEventSink | None = None,
) -> tuple[ChatSession, IngestResult]:
    """The session (created, or read back) holding its folder's lock, and its run ingested
    (or reused) as a job of the seam in this thread, its events to `on_event`. A resumed
    session reads its run as it did (format and folder)."""
    chat: ChatSession | None = None
    if request.resume is not None:
        chat = ChatSession.open(workspace, request.resume)
        run, fmt = Path(chat.meta.run), chat.meta.run_format
    elif request.run is not None:
        run, fmt = request.run, settings.run_format
    else:
        raise BadInputError("chat: give a run folder (or --resume SESSION)")
    ingest = IngestRequest(run, workspace, fmt=fmt, options=settings.ingest_options)
    ingested = run_ingest(ingest, on_event)
    if chat is None:
        run_id = ingested.source.run_id
        meta = SessionMeta(
            id=request.session_id or new_session_id(run_id),
            run=str(run.expanduser().resolve()),
            run_id=run_id,
            run_format=fmt,
            created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            brain=settings.brain,
            options={} if settings.options is None else stored_form(settings.options),
        )
        chat = ChatSession.create(workspace, meta)
    chat.lock()
    return chat, ingested


__all__ = ["OpenRequest", "open_session"]
