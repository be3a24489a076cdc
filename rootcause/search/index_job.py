"""Building a run's semantic index as a job of the seam (`rootcause.core.jobs`): an
`IndexRequest` in, typed events out, the built `SemanticIndex`'s figures at the end.

    job = start_index(IndexRequest(db_path))
    job.subscribe(print)        # index_started, index_progress ..., index_finished
    result = job.wait()         # or IndexCancelledError after job.cancel()

The semantic tools build the same index on first use; building it ahead (`rootcause index
RUN`) moves that wait out of an investigation or a chat. A cancelled build stops at its next
batch of texts and keeps nothing half-written: the embedding cache is saved only whole, and a
collection short of the sample is filled again by the next build.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, TypeAdapter

from rootcause.core import jobs
from rootcause.search.embedders import Embedder
from rootcause.search.index import DEFAULT_CAP, SemanticIndex
from rootcause.store.run_store import RunStore


class _Event(BaseModel):
    """Fields every event has; the stream fills them in when the event is emitted."""

    database: str = Field("", description="The ingested run's database.")
    seq: int = Field(0, description="Order of the event in this stream, from 1.")
    at: str = Field("", description="When it was emitted (ISO 8601, UTC).")


class IndexStarted(_Event):
    type: Literal["index_started"] = "index_started"
    field: str
    texts: int = Field(description="Texts in the run's stratified sample.")
    cap: int


class IndexProgress(_Event):
    type: Literal["index_progress"] = "index_progress"
    stage: str = Field(description="`embed` (texts embedded) or `index` (vectors stored).")
    done: int
    total: int


class IndexFinished(_Event):
    type: Literal["index_finished"] = "index_finished"
    texts: int
    embedded: int = Field(description="Texts embedded now (the others were cached).")
    seconds: float


class IndexFailed(_Event):
    type: Literal["index_failed"] = "index_failed"
    error: str = Field(description="The error's kind.")
    message: str


class IndexCancelled(_Event):
    type: Literal["index_cancelled"] = "index_cancelled"
    stage: str
    done: int


IndexEvent = Annotated[
    IndexStarted | IndexProgress | IndexFinished | IndexFailed | IndexCancelled,
    Field(discriminator="type"),
]
IndexEventSink = jobs.Sink[IndexEvent]
_ADAPTER: TypeAdapter[IndexEvent] = TypeAdapter(IndexEvent)


def parse_index_event(data: str | bytes | dict[str, Any]) -> IndexEvent:
    """An event from one JSON line (or its parsed object)."""
    return jobs.parse_with(_ADAPTER, data)


class IndexEventWriter(jobs.JsonlEventWriter[IndexEvent]):
    """`--events PATH`: the build's events as JSON Lines."""


class IndexCancelledError(jobs.Cancelled):
    """The build was cancelled; the next one starts from the cache as it was."""

    def __init__(self) -> None:
        super().__init__("semantic index build cancelled; nothing half-written was kept")


class IndexCancelToken(jobs.CancelToken):
    """A token whose `check()` raises `IndexCancelledError`."""

    error: ClassVar[type[jobs.Cancelled]] = IndexCancelledError


@dataclass(frozen=True)
class IndexRequest:
    """The semantic index of one text field of an ingested run (`db_path`), over a stratified
    sample of about `cap` texts, embedded with `embedder` (None: the offline MiniLM)."""

    db_path: Path
    field: str = "completion"
    cap: int = DEFAULT_CAP
    embedder: Embedder | None = None


@dataclass(frozen=True)
class IndexResult:
    """What the build did: texts in the index, how many it embedded now, and its folder."""

    texts: int
    embedded: int
    seconds: float
    folder: Path


class IndexJob(jobs.Job[IndexEvent, IndexResult]):
    """A running (or finished) build: its events, `cancel()` and `wait()`."""

    what: ClassVar[str] = "index build"
    token: ClassVar[type[jobs.CancelToken]] = IndexCancelToken


class _Stages:
    """Says how far each stage got (counting the texts embedded); checks for a cancel."""

    def __init__(self, stream: jobs.LabelledStream[IndexEvent], cancel: jobs.CancelToken) -> None:
        self.stream, self.cancel = stream, cancel
        self.stage, self.done, self.embedded = "", 0, 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.cancel.check()
        if stage == "embed":
            self.embedded = done
        self.stage, self.done = stage, done
        self.stream(IndexProgress(stage=stage, done=done, total=total))


def run_index(
    request: IndexRequest,
    on_event: IndexEventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> IndexResult:
    """Build (or find built) the index `request` asks for, in this thread; its events go to
    `on_event`. Cancelled, it says so on the stream and raises `IndexCancelledError`."""
    stream: jobs.LabelledStream[IndexEvent] = jobs.LabelledStream(
        "database", str(request.db_path), on_event
    )
    stages = _Stages(stream, IndexCancelToken(cancel))
    started = time.perf_counter()
    try:
        with RunStore(request.db_path) as store:
            index = SemanticIndex(
                store, request.field, cap=request.cap, embedder=request.embedder, progress=stages
            )
            texts = int(index.sample.text_rows.size)
            stream(IndexStarted(field=request.field, texts=texts, cap=request.cap))
            index.build()
    except jobs.Cancelled:
        stream(IndexCancelled(stage=stages.stage, done=stages.done))
        raise IndexCancelledError() from None
    except Exception as exc:
        stream(IndexFailed(error=type(exc).__name__, message=str(exc)))
        raise
    seconds = time.perf_counter() - started
    stream(IndexFinished(texts=texts, embedded=stages.embedded, seconds=seconds))
    return IndexResult(texts, stages.embedded, seconds, index.folder)


def start_index(
    request: IndexRequest,
    on_event: IndexEventSink | None = None,
    cancel: jobs.CancelToken | None = None,
) -> IndexJob:
    """Start a build in a thread of its own and return its job (`jobs.start_job`)."""
    return jobs.start_job(
        IndexJob(cancel), lambda publish, token: run_index(request, publish, token), on_event
    )
