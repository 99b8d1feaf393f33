"""The registry of sources: everything papertide reads papers from, each declared once.

A source is one `Source` value: its canonical name (the `source` of the records it yields, its
`--format` name and its `papertide sync` sub-command), how much its metadata is trusted when
sources disagree, and the optional parts it brings: a file reader, a content test for `--format
auto`, a sync command and the jobs the scheduler runs. Adding a source is one module that builds
a `Source`, plus its entry in `ingest/builtin.py` (or a `register` call, as plugins and tests do).

This module imports no source: the built-in ones use the runner, the store and the CLI, which
themselves look sources up here, so they are loaded on the first lookup instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from papertide.application import Papertide
    from papertide.ingest.base import Reader
    from papertide.ingest.runner import ImportSummary

# Jobs the scheduler runs, by the name its report gives them (e.g. "arxiv cs.LG").
ScheduledJobs = Callable[["Papertide", Sequence[str]], dict[str, Callable[[], "ImportSummary"]]]


@dataclass(frozen=True)
class Sniff:
    """What content detection looks at: the decoded start of a file in whole lines (BOM and
    leading whitespace removed) and its lower-cased suffix, which only breaks ties."""

    head: str
    suffix: str


@dataclass(frozen=True)
class Source:
    name: str
    # Higher wins when two sources disagree on a field: curated metadata beats scraped text.
    priority: int
    read: Reader | None = None
    # Says whether a file is in this source's format; tried in ascending detect_order, the
    # first yes wins, so a broad test (listing: anything) goes last.
    detects: Callable[[Sniff], bool] | None = None
    detect_order: int = 500
    aliases: tuple[str, ...] = ()  # other --format names, kept for documented commands
    command: Callable[..., None] | None = None  # a Typer command, run as `papertide sync NAME`
    scheduled: ScheduledJobs | None = None  # what `papertide scheduler` fetches each run


_registered: dict[str, Source] = {}
_loaded = False
_loading = False
_first_load = threading.RLock()


def _sources() -> dict[str, Source]:
    global _loaded, _loading
    if _loaded:
        return _registered
    # Another thread's first lookup (a web import in a worker thread) waits for the built-in
    # sources instead of seeing none; a lookup made while they load, in the loading thread
    # (builtin's imports), sees the partial registry.
    with _first_load:
        if not _loaded and not _loading:
            _loading = True
            from papertide.ingest import builtin  # see the module docstring: no import cycle

            for source in builtin.SOURCES:
                _add(source)
            _loaded = True
    return _registered


def _add(source: Source) -> None:
    taken = {n for s in _registered.values() for n in (s.name, *s.aliases)}
    clash = taken & {source.name, *source.aliases}
    if clash:
        raise ValueError(f"source name already registered: {', '.join(sorted(clash))}")
    _registered[source.name] = source


def register(source: Source) -> Source:
    """Add SOURCE; its name and aliases must be new."""
    _sources()
    _add(source)
    return source


def unregister(name: str) -> None:
    _sources().pop(name)


def all_sources() -> Iterator[Source]:
    """Every source, in registration order (the order `--format` lists them in)."""
    return iter(list(_sources().values()))


def get(name: str) -> Source:
    """The source called NAME or one of its aliases; KeyError when there is none."""
    registry = _sources()
    if name in registry:
        return registry[name]
    found = next((s for s in registry.values() if name in s.aliases), None)
    if found is None:
        raise KeyError(name)
    return found


def format_names() -> list[str]:
    """Every name `--format` takes: sources with a reader, and their aliases."""
    return [n for s in all_sources() if s.read for n in (s.name, *s.aliases)]


def reader(name: str) -> Reader:
    """The file reader of the source called NAME (or an alias); KeyError when there is none."""
    read = get(name).read
    if read is None:
        raise KeyError(name)
    return read


def detect(sniff: Sniff) -> str:
    """The name of the first source, in detect order, whose test accepts SNIFF."""
    testing = sorted((s for s in all_sources() if s.detects), key=lambda s: s.detect_order)
    for source in testing:
        if source.detects(sniff):  # type: ignore[misc]
            return source.name
    raise LookupError("no source recognises this content")


def priority(name: str) -> int:
    """How much records of source NAME are trusted; 0 for sources no longer registered."""
    source = _sources().get(name)
    return source.priority if source else 0
