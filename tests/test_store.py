"""Merging in the store: one paper per identity, every source kept, runs idempotent."""

from datetime import datetime

import pytest
from sqlalchemy import func, select

from papertide.records import PaperRecord
from papertide.store import queries
from papertide.store.schema import paper_keys, paper_sources, papers, upvotes, users
from papertide.store.writer import save_batch


def save(engine, *records):
    with engine.begin() as conn:
        return save_batch(conn, list(records))


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_same_paper_through_many_sources_is_one_record(engine):
    listing = PaperRecord(
        source="listing",
        title="Symmetry-Aware Tokenizers!",
        abstract="A longer listing abstract about tokenizers and symmetries.",
    )
    oai = PaperRecord(
        source="oai",
        title="Symmetry-aware tokenizers",
        arxiv_id="2611.00003",
        abstract="Tokenizers respecting symmetries.",
        authors=["Emmy Noether"],
    )
    bib = PaperRecord(
        source="bibtex", title="{Symmetry}-{Aware} {Tokenizers}", doi="10.48550/arXiv.2611.00003"
    )
    first = save(engine, listing)
    second = save(engine, oai)
    third = save(engine, bib)
    assert (first.new, second.updated, third.updated) == (1, 1, 1)  # the DOI is new information
    assert count(engine, papers) == 1
    with engine.connect() as conn:
        paper = queries.get_paper(conn, "2611.00003")
        assert paper["id"] == "2611.00003"  # the title-hash id was upgraded to the arXiv id
        assert paper["abstract"] == "Tokenizers respecting symmetries."  # arXiv outranks listing
        assert paper["authors"] == ["Emmy Noether"]
        assert paper["doi"] == "10.48550/arxiv.2611.00003"
        assert {s["source"] for s in paper["sources"]} == {"listing", "oai", "bibtex"}
        # the former id still resolves, and so do versioned ids and the arXiv DOI
        old_id = "title:" + listing.title_key
        assert queries.resolve_id(conn, old_id) == "2611.00003"
        assert queries.resolve_id(conn, "2611.00003v2") == "2611.00003"
        assert queries.resolve_id(conn, "nonexistent") is None


def test_rerunning_a_batch_adds_nothing(engine):
    batch = [
        PaperRecord(source="hf", title=f"Paper {i}", arxiv_id=f"2611.{i:05d}", upstream_upvotes=i)
        for i in range(50)
    ]
    first = save(engine, *batch)
    again = save(engine, *batch)
    assert (first.new, first.updated, first.duplicates) == (50, 0, 0)
    assert (again.new, again.updated, again.duplicates) == (0, 0, 50)
    assert count(engine, papers) == 50
    assert count(engine, paper_sources) == 50


def test_duplicates_inside_one_batch_merge(engine):
    result = save(
        engine,
        PaperRecord(source="csv", title="Twice In One File"),
        PaperRecord(source="jsonl", title="twice in one file.", doi="10.1234/twice"),
        PaperRecord(source="csv", title="Twice in one file"),
    )
    assert (result.new, result.duplicates) == (1, 2)
    assert count(engine, papers) == 1
    with engine.connect() as conn:
        assert queries.resolve_id(conn, "doi:10.1234/twice") is not None


def test_same_title_different_arxiv_ids_stay_two_papers(engine):
    save(engine, PaperRecord(source="arxiv", title="A Survey", arxiv_id="2401.00001"))
    result = save(engine, PaperRecord(source="arxiv", title="A Survey", arxiv_id="2402.00002"))
    assert result.new == 1
    assert count(engine, papers) == 2


def test_updated_source_record_updates_the_paper(engine):
    save(engine, PaperRecord(source="arxiv", title="Draft Title", arxiv_id="2401.00001"))
    result = save(engine, PaperRecord(source="arxiv", title="Final Title", arxiv_id="2401.00001"))
    assert result.updated == 1
    with engine.connect() as conn:
        assert queries.get_paper(conn, "2401.00001")["title"] == "Final Title"
    assert count(engine, paper_sources) == 1


def test_votes_library_and_seen_follow_a_paper_whose_id_improves(engine):
    from papertide.store import library

    save(engine, PaperRecord(source="listing", title="Voted Paper"))
    with engine.begin() as conn:
        old_id = conn.execute(select(papers.c.id)).scalar_one()
        conn.execute(
            users.insert().values(id=1, username="u", role="user", created_at=datetime(2026, 1, 1))
        )
        conn.execute(
            upvotes.insert().values(user_id=1, paper_id=old_id, created_at=datetime(2026, 1, 1))
        )
        library.set_saved(conn, 1, old_id, True)
        library.mark_seen(conn, 1, [old_id])
    save(engine, PaperRecord(source="arxiv", title="Voted paper", arxiv_id="2401.00009"))
    with engine.connect() as conn:
        assert conn.execute(select(upvotes.c.paper_id)).scalar_one() == "2401.00009"
        assert queries.get_paper(conn, old_id)["votes"] == 1
        signals = library.signals(conn, 1)
        assert signals.positive == ["2401.00009"] and signals.seen == {"2401.00009"}


def test_failed_batch_leaves_store_untouched(engine):
    save(engine, PaperRecord(source="arxiv", title="Kept", arxiv_id="2401.00001"))
    before = (count(engine, papers), count(engine, paper_keys), count(engine, paper_sources))
    with pytest.raises(RuntimeError), engine.begin() as conn:
        save_batch(conn, [PaperRecord(source="arxiv", title="Lost", arxiv_id="2401.00002")])
        raise RuntimeError("crash after writing, before commit")
    after = (count(engine, papers), count(engine, paper_keys), count(engine, paper_sources))
    assert after == before


def test_list_orders_newest_first_and_undated_last(engine):
    save(
        engine,
        PaperRecord(source="csv", title="Old", published_at=datetime(2020, 1, 1)),
        PaperRecord(source="csv", title="Undated"),
        PaperRecord(source="csv", title="New", published_at=datetime(2026, 11, 20)),
    )
    with engine.connect() as conn:
        assert [p["title"] for p in queries.list_papers(conn)] == ["New", "Old", "Undated"]
        november = queries.list_papers(conn, datetime(2026, 11, 1), datetime(2026, 12, 1))
        assert [p["title"] for p in november] == ["New"]


def test_migrations_create_exactly_the_declared_schema(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from papertide.store.schema import metadata

    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_keys_and_authors_keep_every_row_through_the_without_rowid_rebuild(engine):
    from alembic import command

    from papertide.store.engine import _alembic_config, upgrade
    from papertide.store.schema import paper_authors

    save(
        engine,
        PaperRecord(
            source="oai",
            title="Keyed",
            arxiv_id="2611.00005",
            doi="10.1000/keyed",
            authors=["A B", "C D"],
        ),
        PaperRecord(source="bibtex", title="Titled only", authors=["E F"]),
    )

    def rows() -> tuple[list, list]:
        with engine.connect() as conn:
            return tuple(
                sorted(tuple(r) for r in conn.execute(select(t)))
                for t in (paper_keys, paper_authors)
            )

    def without_rowid() -> set[str]:
        with engine.connect() as conn:
            schema = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'table'"
            )
            return {name for name, sql in schema if sql.rstrip().endswith("WITHOUT ROWID")}

    before = rows()
    assert len(before[0]) == 4 and len(before[1]) == 3  # arxiv, doi and two title keys
    if engine.dialect.name == "sqlite":
        assert without_rowid() == {"paper_keys", "paper_authors"}
    command.downgrade(_alembic_config(engine), "0010")  # to before migration 0015
    assert rows() == before
    if engine.dialect.name == "sqlite":
        assert without_rowid() == set()
    upgrade(engine)
    assert rows() == before
    if engine.dialect.name == "sqlite":
        assert without_rowid() == {"paper_keys", "paper_authors"}


def test_a_bulk_import_has_a_large_page_cache_and_gives_it_back(engine):
    from papertide.store import dialect

    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's page cache")

    def cache_size() -> int:
        with engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA cache_size").scalar_one()

    usual = cache_size()
    with dialect.bulk_writing(engine):
        assert cache_size() == -dialect.BULK_CACHE_KIB
        assert cache_size() == -dialect.BULK_CACHE_KIB  # the pooled connection, taken again
    assert cache_size() == usual != -dialect.BULK_CACHE_KIB
    with engine.connect() as conn:  # a new file is made of large pages
        assert conn.exec_driver_sql("PRAGMA page_size").scalar_one() == dialect.NEW_FILE_PAGE_SIZE
