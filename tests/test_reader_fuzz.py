"""Standing fuzz of every reader and of format detection (issue 10): whatever the bytes, no
exception escapes, nothing unsafe comes out, and good records beside bad ones are all kept.

Every registered source with a reader is fuzzed with hostile bytes, so a new source is covered
the day it is registered; the built-in formats are also fuzzed with good records written in
their format and damaged records between them, read directly and imported end to end (format
detection, the binary check, the runner and the database). Bounded to stay well under 30 s.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from papertide.ingest import builtin, sources
from papertide.ingest.formats import detect
from papertide.ingest.runner import import_file
from papertide.records import Notice, PaperRecord, Reject, clean_text
from papertide.store.engine import open_engine
from papertide.store.schema import papers

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
UNSAFE = {
    *"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c",
    *"\ufffe\uffff\ufdd0\ufdef",
    *(chr(c) for c in range(0x20)),
    *(chr(c) for c in range(0xD800, 0xE000)),
}

# Bytes that broke or could break a reader: invalid UTF-8, NULs, an encoded surrogate, JSON
# surrogate escapes, U+FFFF, bidi controls, deep nesting, a huge line, truncation, BOMs, CRs.
HOSTILE_PIECES = [
    b"\xff\xfe\xfd",
    b"caf\xe9 latin-1",
    b"\x80\x81\x8d",
    b"\x00\x00\x00",
    b"\xed\xa0\x80",  # a surrogate encoded as UTF-8, which strict UTF-8 refuses
    b"\\ud800 \\udfff",
    "\uffff\ufffe\ufdd0".encode(),
    "\u202egnp.exe\u2066\u200f".encode(),
    b"\x01\x1b\x7f",
    b"[" * 3000,
    b'{"a":' * 3000,
    b"x" * 70_000,
    b"\xef\xbb\xbf",
    b"\r",
    b"\r\n\r",
    b"&#0;&#xD800;&#xFFFF;&bogus;",
    b"\\",
]
hostile = st.one_of(st.sampled_from(HOSTILE_PIECES), st.binary(max_size=40))
FRAGMENTS = [
    b"<?xml version='1.0'?>",
    b"<feed xmlns='http://www.w3.org/2005/Atom'>",
    b"<entry><id>http://arxiv.org/abs/2401.00001</id><title>",
    b"</title></entry>",
    b"<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'><record>",
    b'{"title": "',
    b'[{"paper": {"title": "',
    b'"}',
    b"@article{k, title={",
    b"}",
    b"title,authors\n",
    b"\n",
]
any_bytes = st.lists(
    st.one_of(hostile, st.sampled_from(FRAGMENTS), st.text(max_size=30).map(str.encode)),
    max_size=30,
).map(b"".join)


def _check_items(items: list) -> list[PaperRecord]:
    records = []
    for item in items:
        assert isinstance(item, (PaperRecord, Reject, Notice))
        if isinstance(item, PaperRecord):
            text = json.dumps(item.model_dump(mode="json"), ensure_ascii=False)
            text.encode("utf-8")  # a lone surrogate would raise here
            assert not UNSAFE & set(text), f"unsafe characters kept: {UNSAFE & set(text)}"
            records.append(item)
        else:
            (item.where + item.reason).encode("utf-8")
    return records


def _read(source_name: str, content: bytes) -> list:
    return list(sources.reader(source_name)(io.BytesIO(content), "fuzz"))


@pytest.mark.parametrize("source_name", [s.name for s in sources.all_sources() if s.read])
@FUZZ
@given(content=any_bytes)
def test_every_reader_survives_hostile_bytes(source_name, content):
    _check_items(_read(source_name, content))


@FUZZ
@given(content=any_bytes, name=st.sampled_from(["upload", "x.bib", "x.csv", "x.json", "x.xml"]))
def test_format_detection_survives_hostile_bytes(content, name):
    assert sources.get(detect(io.BytesIO(content), name)).read


# -- good records among damaged ones, in each built-in format ----------------------------------

WORDS = ["Sparse", "Experts", "Über", "naïve", "Attention", "Graph", "Diffusion", "東京", "LoRA"]
titles = st.lists(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join),
    min_size=1,
    max_size=4,
).map(lambda found: [f"Paper {n} on {t}" for n, t in enumerate(found)])
ABSTRACT = "An abstract that is long enough to look like one. " * 3 + "It ends with a period."


def _without(piece: bytes, forbidden: bytes) -> bytes:
    """PIECE without the bytes that legitimately join records in a format (an open brace in
    BibTeX, markup in XML, a quote in a JSON string), which would make it one record, not
    damage."""
    return piece.translate(None, forbidden)


def _jsonl(good: list[str], bad: list[bytes]) -> bytes:
    lines = [
        json.dumps({"title": t, "abstract": ABSTRACT}, ensure_ascii=False).encode() for t in good
    ]
    damaged = [_without(b, b"\n") for b in bad]
    damaged += [b'{"title": "cut ' + _without(b, b'\n"') for b in bad]
    damaged += [b'{"title": "kept ' + _without(b, b'\n"') + b'"}' for b in bad]
    return _interleave(lines, damaged, b"\n")


def _csv(good: list[str], bad: list[bytes]) -> bytes:
    rows = [f'"{t}","{ABSTRACT}"'.encode() for t in good]
    damaged = [*bad, *(b'"' + b for b in bad)]  # an open quote is found where it meets a good row
    return b"title,abstract\n" + _interleave(rows, damaged, b"\n")


def _hf(good: list[str], bad: list[bytes]) -> bytes:
    items = [
        json.dumps({"paper": {"title": t, "summary": ABSTRACT}}, ensure_ascii=False).encode()
        for t in good
    ]
    damaged = [b'{"paper": {"title": "' + _without(b, b'"\\') + b'"}}' for b in bad]
    damaged += [b"[" * 3000 + b"]" * 3000, b'{"paper": {"title": "\\ud800"}}', b"17"]
    return b"[" + _interleave(items, damaged, b", ") + b"]"


def _bibtex(good: list[str], bad: list[bytes]) -> bytes:
    entries = [f"@article{{k{n}, title={{{t}}}}}".encode() for n, t in enumerate(good)]
    damaged = [b"@article{bad, title={" + _without(b, b"{}@") + b"}}" for b in bad]
    damaged += [_without(b, b"{}@") for b in bad]  # junk between entries
    return _interleave(entries, damaged, b"\n")


def _atom(good: list[str], bad: list[bytes]) -> bytes:
    def entry(n: int, title: bytes) -> bytes:
        return b"<entry><id>http://arxiv.org/abs/2401.%05d</id><title>%s</title></entry>" % (
            n,
            title,
        )

    entries = [entry(n, escape(t).encode()) for n, t in enumerate(good)]
    damaged = [entry(90000 + n, _without(b, b"<>")) for n, b in enumerate(bad)]
    body = _interleave(entries, damaged, b"\n")
    return b'<feed xmlns="http://www.w3.org/2005/Atom">' + body + b"</feed>"


def _oai(good: list[str], bad: list[bytes]) -> bytes:
    def record(n: int, title: bytes) -> bytes:
        return (
            b"<record><header><identifier>oai:arXiv.org:2401.%05d</identifier></header>"
            b'<metadata><arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>2401.%05d</id>'
            b"<title>%s</title></arXiv></metadata></record>" % (n, n, title)
        )

    records = [record(n, escape(t).encode()) for n, t in enumerate(good)]
    damaged = [record(90000 + n, _without(b, b"<>")) for n, b in enumerate(bad)]
    body = _interleave(records, damaged, b"\n")
    return (
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>'
        + body
        + b"</ListRecords></OAI-PMH>"
    )


def _listing(good: list[str], bad: list[bytes]) -> bytes:
    pairs = [f"{t}\n{ABSTRACT}".encode() for t in good]
    return _interleave(pairs, [_without(b, b"\n\r") for b in bad], b"\n")


def _arxiv_snapshot(good: list[str], bad: list[bytes]) -> bytes:
    def line(n: int, title: str) -> bytes:
        record = {
            "id": f"2401.{n:05d}",
            "title": title,
            "abstract": ABSTRACT,
            "authors_parsed": [["Doe", "Jane", ""]],
            "versions": [{"version": "v1", "created": "Mon, 1 Jan 2024 10:00:00 GMT"}],
        }
        return json.dumps(record, ensure_ascii=False).encode()

    lines = [line(n, t) for n, t in enumerate(good)]
    damaged = [_without(b, b"\n") for b in bad]
    damaged += [b'{"id": "2401.99999", "title": "cut ' + _without(b, b'\n"') for b in bad]
    return _interleave(lines, damaged, b"\n")


def _openalex(good: list[str], bad: list[bytes]) -> bytes:
    def line(n: int, title: str) -> bytes:
        record = {
            "id": f"https://openalex.org/W{1000 + n}",
            "title": title,
            "abstract_inverted_index": {"An": [0], "abstract.": [1]},
        }
        return json.dumps(record, ensure_ascii=False).encode()

    lines = [line(n, t) for n, t in enumerate(good)]
    damaged = [_without(b, b"\n") for b in bad]
    damaged += [
        b'{"id": "https://openalex.org/W9", "title": "cut ' + _without(b, b'\n"') for b in bad
    ]
    return _interleave(lines, damaged, b"\n")


def _interleave(good: list[bytes], damaged: list[bytes], separator: bytes) -> bytes:
    """A good record first (detection sees it), then damaged and good ones taking turns."""
    parts = [good[0]]
    for bad_one, good_one in itertools.zip_longest(damaged, good[1:]):
        parts += [part for part in (bad_one, good_one) if part is not None]
    return separator.join(parts) + separator


def _csl_json(good: list[str], bad: list[bytes]) -> bytes:
    items = [
        json.dumps(
            {"type": "article", "title": t, "author": [{"family": "Doe", "given": "Jane"}]},
            ensure_ascii=False,
        ).encode()
        for t in good
    ]
    damaged = [b'{"type": "article", "title": "' + _without(b, b'"\\') + b'"}' for b in bad]
    damaged += [b'{"title": "\\ud800"}', b"17", b'{"author": "not a list"}']
    return b"[" + _interleave(items, damaged, b", ") + b"]"


def _ris(good: list[str], bad: list[bytes]) -> bytes:
    references = [f"TY  - GEN\nTI  - {t}\nAU  - Doe, Jane\nER  - ".encode() for t in good]
    damaged = [b"TY  - GEN\nTI  - " + _without(b, b"\n\r") + b"\nER  - " for b in bad]
    damaged += [_without(b, b"\n\r") for b in bad]  # junk between references
    damaged += [b"TY  - GEN\nTI  - never ended"]
    return _interleave(references, damaged, b"\n")


WRITERS: dict[str, Callable[[list[str], list[bytes]], bytes]] = {
    "jsonl": _jsonl,
    "csv": _csv,
    "hf": _hf,
    "bibtex": _bibtex,
    "arxiv": _atom,
    "oai": _oai,
    "listing": _listing,
    "arxiv-snapshot": _arxiv_snapshot,
    "openalex": _openalex,
    "csl-json": _csl_json,
    "ris": _ris,
}


def test_every_built_in_format_has_a_writer_here():
    assert set(WRITERS) == {s.name for s in builtin.SOURCES if s.read}


@pytest.mark.parametrize("source_name", list(WRITERS))
@FUZZ
@given(good=titles, bad=st.lists(hostile, min_size=1, max_size=4))
def test_every_good_record_survives_its_damaged_neighbours(source_name, good, bad):
    content = WRITERS[source_name](good, bad)
    if source_name != "listing":  # listing is what is left when nothing else matches
        assert detect(io.BytesIO(content), "upload") == source_name
    records = _check_items(_read(source_name, content))
    kept = {r.title for r in records}
    lost = [t for t in good if clean_text(t) not in kept]
    assert not lost, f"{source_name} lost {lost}"


# -- end to end: detection, the binary check, the runner and the database ---------------------


@settings(FUZZ, max_examples=40)
@given(
    source_name=st.sampled_from([name for name in WRITERS if name != "listing"]),
    good=titles,
    bad=st.lists(hostile, min_size=1, max_size=4),
)
def test_importing_damaged_files_stores_every_good_record(
    backend, databases, tmp_path_factory, source_name, good, bad
):
    folder = tmp_path_factory.mktemp("import")  # a database of its own: ids repeat across examples
    path = folder / "upload.dat"
    path.write_bytes(WRITERS[source_name](good, bad))
    url = databases.new(backend, folder)
    engine = open_engine(url)
    try:
        import_file(engine, path)
        with engine.connect() as conn:
            stored = set(conn.execute(select(papers.c.title)).scalars())
    finally:
        engine.dispose()
        databases.drop(url)
    assert {clean_text(t) for t in good} <= stored
