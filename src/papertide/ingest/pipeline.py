"""Reading a large file in a process of its own, beside the one that stores its records.

Parsing and normalising a record costs about as much as storing it, and one Python process
runs on one core (the GIL): with the reader in a second process, a bulk import uses both cores
of a small machine. The child (`python -m papertide.ingest.pipeline PATH FORMAT`, so that no
caller's main module is run again, as multiprocessing's spawn would) writes the items, in
order, as pickled chunks to its stdout; a thread here reads them into a bounded queue, so the
child parses the next batch while this process stores one, and memory stays bounded. What the
importer sees is what the reader yields in-process, but each record comes prepared for the bulk
writer (store/prepared.py: merged and converted here, on the child's core).
"""

from __future__ import annotations

import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from typing import IO, Any

from papertide.ingest.allocation import fewer_collections
from papertide.records import Reject

CHUNK = 1000  # items per message: the cost of a message is per chunk, memory per chunk
# Chunks read ahead: a little more than one bulk batch (runner.BULK_BATCH_SIZE), so the child
# reads the next batch while the importer stores the current one.
DEPTH = 12
_LENGTH = struct.Struct("<Q")
_END = object()


class ProcessReader:
    """The items of PATH as format FMT's built-in reader yields them, read in a child process,
    each record prepared for the bulk writer of a BACKEND database (store/prepared.py).
    `position` is how many bytes of the file had been read when the last item came."""

    def __init__(self, path: Path, fmt: str, backend: str) -> None:
        self.path = path
        self.fmt = fmt
        self.backend = backend
        self.position = 0

    def __iter__(self) -> Generator[Any, None, None]:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "papertide.ingest.pipeline",
                str(self.path),
                self.fmt,
                self.backend,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a reader's failure comes back as a Reject item
        )
        chunks: queue.Queue[Any] = queue.Queue(DEPTH)
        stop = threading.Event()
        damage: list[str] = []
        pump = threading.Thread(
            target=_pump,
            args=(child.stdout, chunks, stop, damage),
            name="reader-pipe",
            daemon=True,
        )
        pump.start()
        try:
            while (message := chunks.get()) is not _END:
                items, self.position = message
                yield from items
            # After a damaged message the child may still be writing into a pipe nobody
            # reads: it is not waited for, but killed below as any reader not needed.
            if damage:
                why = damage[0]
            elif child.wait() != 0:
                why = f"exit status {child.returncode}"
            else:
                why = None
            if why:
                yield Reject(where=str(self.path), reason=f"reader process ended early ({why})")
        finally:
            stop.set()
            if child.poll() is None:
                child.kill()  # the import stopped early: its reader is not needed
            child.wait()
            while pump.is_alive():  # let a pump blocked on the full queue see the stop
                try:
                    chunks.get_nowait()
                except queue.Empty:
                    pump.join(0.1)
            if child.stdout:
                child.stdout.close()


def _pump(
    pipe: IO[bytes], chunks: queue.Queue[Any], stop: threading.Event, damage: list[str]
) -> None:
    """Read length-prefixed pickles from the child until it closes its end. A message cut
    short (the child was killed while writing it) ends the reading too: the importer then
    reports the child's exit, or has stopped already. So does a message that does not
    unpickle, noted in DAMAGE: what came before it is stored, and importing again stores
    the rest."""
    try:
        while not stop.is_set():
            head = pipe.read(_LENGTH.size)
            if len(head) < _LENGTH.size:
                break
            length = _LENGTH.unpack(head)[0]
            message = pipe.read(length)
            if len(message) < length:
                break
            # the child is papertide's own reader, started just above: its pickles are trusted
            try:
                chunk = pickle.loads(message)
            except Exception as exc:  # damaged in the pipe: whatever pickle raises for it
                damage.append(f"a damaged message: {type(exc).__name__}")
                break
            chunks.put(chunk)
    finally:
        chunks.put(_END)


def _produce(location: str, fmt: str, backend: str) -> None:
    """The child: read the file and write its items to stdout in chunks."""
    from papertide.ingest.runner import FileItems  # the child imports what it runs
    from papertide.records import PaperRecord
    from papertide.store.prepared import preparer

    prepare = preparer(backend)

    out = sys.stdout.buffer
    chunk: list[Any] = []
    items = FileItems(Path(location), fmt)

    def send() -> None:
        data = pickle.dumps((chunk, items.position()), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_LENGTH.pack(len(data)) + data)

    for item in items:
        chunk.append(prepare(item) if isinstance(item, PaperRecord) else item)
        if len(chunk) >= CHUNK:
            send()
            chunk = []
    if chunk:
        send()
    out.flush()


if __name__ == "__main__":
    try:
        with fewer_collections():
            _produce(sys.argv[1], sys.argv[2], sys.argv[3])
    except BrokenPipeError:  # the importer stopped reading (killed, or done early)
        sys.exit(1)
