"""The command line never blames the user for papertide's gaps (issue 11, items 4-6): every
failure is one `error:` line with the exit status of the README's table, help says what each
value is, and inputs are checked before any work or request."""

from __future__ import annotations

import importlib.util
import re
import shlex
import socket
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from conftest import FIXTURES
from localserver import Script, serve
from papertide.cli import app


def error_line(result) -> str:
    """The one line a failed command printed on stderr (fails if it printed more, or a
    traceback)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _commands(command, path: tuple[str, ...] = ()):
    """Every command and group of the app, with the words that name it."""
    yield path, command
    if hasattr(command, "list_commands"):
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            yield from _commands(command.get_command(ctx, name), (*path, name))


TYPE_TAG = re.compile(r"<[\w\[\]|, ]+>|list\[")  # Typer's `<bool>`, `<int range>`, `<list[Path]>`


def test_help_of_every_command_explains_every_option_without_type_tags():
    commands = list(_commands(get_command(app)))
    assert len(commands) > 40  # the walk reaches the sub-commands
    for path, command in commands:
        unexplained = [param.name for param in command.params if not param.help]
        assert not unexplained, (path, unexplained)
        shown = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0, (path, shown.output)
        assert not TYPE_TAG.findall(shown.stdout), (path, shown.stdout)


@pytest.mark.parametrize(
    "args",
    [
        ("list", "--limit", "0"),
        ("search", "x", "--k", "0"),
        ("similar", "x", "--k", "0"),
        ("recommend", "--user", "u", "--k", "0"),
        ("topics", "show", "1", "--limit", "0"),
        ("topics", "show", "one"),
        ("serve", "--port", "99999"),
        ("serve", "--port", "0"),
        ("serve", "--port", "-1"),
        ("list", "--no-such-option"),
        ("--no-such-option", "stats"),
        ("show",),
        ("library", "import", "--user", "u"),
        ("no-such-command",),
    ],
    ids=" ".join,
)
def test_usage_mistakes_are_one_error_line_with_status_2_not_a_typer_box(cli, args):
    cli.run("init")
    result = cli.run(*args, check=False)
    assert result.returncode == 2
    error_line(result)


def test_a_database_papertide_cannot_use_is_one_error_line_naming_the_fix(cli):
    mysql = cli.run("--db", "mysql://user@127.0.0.1/papers", "stats", check=False)
    assert mysql.returncode == 2
    assert "mysql databases are not supported" in error_line(mysql)
    assert "SQLite" in error_line(mysql) and "PostgreSQL" in error_line(mysql)
    # a command that opens the database itself, not through the CLI's helper, says the same
    sample = cli.run("--db", "mysql://user@127.0.0.1/papers", "sample", "load", check=False)
    assert sample.returncode == 2 and error_line(sample) == error_line(mysql)
    postgres = cli.run("--db", "postgresql://user@127.0.0.1:9/papers", "stats", check=False)
    if importlib.util.find_spec("psycopg") is None:
        assert postgres.returncode == 2
        assert "pip install 'psycopg[binary]'" in error_line(postgres)
    else:  # the driver is there: nothing listens on port 9 (discard), still one line, status 3
        assert postgres.returncode == 3
        assert error_line(postgres).startswith("error: database unreachable (")


READ_ONLY = [
    ("stats",),
    ("list",),
    ("show", "2611.00001"),
    ("search", "attention"),
    ("similar", "2611.00001"),
    ("index",),
    ("recommend", "--user", "ada"),
    ("topics", "list"),
    ("topics", "show", "1"),
    ("digest", "status"),
    ("digest", "send", "--dry-run"),
    ("users", "tokens", "ada"),
    ("library", "list", "--user", "ada"),
    ("follow", "author", "Ada Lovelace", "--user", "ada"),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_read_only_command_on_a_missing_database_says_so_and_creates_nothing(cli, tmp_path, args):
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    result = cli.run("--db", str(missing), *args, check=False)
    assert result.returncode == 2
    assert f"no database at {missing}" in error_line(result)
    assert not (tmp_path / "no").exists()


def test_commands_that_write_create_a_missing_database(cli, tmp_path):
    fresh = tmp_path / "new" / "dir" / "x.db"
    cli.run("--db", str(fresh), "import", str(FIXTURES / "arxiv_atom.xml"))
    assert fresh.is_file()
    assert "papers: 3" in cli.run("--db", str(fresh), "stats").stdout


def test_library_import_of_a_missing_file_is_one_error_line(cli, tmp_path):
    cli.run("users", "create", "ada", "--password-stdin", stdin="password123\n")
    for args in (
        ("library", "import", str(tmp_path / "missing.bib"), "--user", "ada"),
        ("import", str(FIXTURES / "arxiv_atom.xml"), str(tmp_path / "missing.jsonl")),
        ("library", "import", str(tmp_path), "--user", "ada"),  # a folder is not a file
        ("model", "prepare", "--source", str(tmp_path / "no-model")),
    ):
        result = cli.run(*args, check=False)
        assert result.returncode == 2, args
        assert "does not exist" in error_line(result) or "is a directory" in error_line(result)
    assert "papers: 0" in cli.run("stats").stdout  # nothing half-imported before the error


def test_serve_on_a_port_in_use_is_one_error_line(cli):
    cli.run("init")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli.run("serve", "--port", str(port), check=False)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in error_line(result)


@pytest.mark.parametrize(
    "args, complaint",
    [
        (("sync", "hf", "--date", "2024-13-45"), "not a day"),
        (("sync", "hf", "--week", "2024-W60"), "no such ISO week"),
        (("sync", "hf", "--month", "2024-13"), "not a month"),
        (("sync", "arxiv", "--category", "not a category"), "not an arXiv category"),
        (("sync", "arxiv", "--category", "cs.LG;drop"), "not an arXiv category"),
        (("sync", "arxiv", "--since", "2026-02-30"), "not a day"),
        (("sync", "arxiv", "--since", "2026-11-20", "--until", "2026-11-01"), "is after"),
        (("sync", "arxiv", "--via", "ftp"), "--via"),
        (("scheduler", "--once", "--category", "cs LG"), "not an arXiv category"),
        (("scheduler", "--once", "--weekly-day", "funday"), "--weekly-day"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_sync_inputs_are_checked_before_any_request(cli, args, complaint):
    script = Script({})  # the sources' stand-in: it records every request it gets
    with serve(script) as base:
        cli.env.update(
            PAPERTIDE_ARXIV_API_URL=f"{base}/api/query",
            PAPERTIDE_OAI_URL=f"{base}/oai",
            PAPERTIDE_HF_API_URL=f"{base}/api/daily_papers",
        )
        result = cli.run(*args, check=False)
    assert result.returncode == 2
    assert complaint in error_line(result)
    assert script.requests == []


@pytest.mark.parametrize(
    "args, the_unknown",
    [
        (("show", "2611.99999"), "no paper with id '2611.99999'"),
        (("similar", "2611.99999"), "no paper with id '2611.99999'"),
        (("library", "add", "2611.99999", "--user", "ada"), "no paper with id '2611.99999'"),
        (("recommend", "--user", "bob"), "no user 'bob'"),
        (("users", "token", "bob"), "no user 'bob'"),
        (("users", "hide-votes", "bob"), "no user 'bob'"),
        (("users", "revoke-token", "ada", "0123456789abcdef"), "no API token"),
        (("topics", "show", "77"), "no topic 77"),
        (("digest", "unsubscribe", "nobody@example.org"), "no subscriber"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_unknown_paper_user_topic_exits_2_as_the_readme_says(cli, args, the_unknown):
    cli.run("import", str(FIXTURES / "arxiv_atom.xml"))
    cli.run("index", "--keyword-only")
    cli.run("users", "create", "ada", "--password-stdin", stdin="password123\n")
    result = cli.run(*args, check=False)
    assert result.returncode == 2
    assert the_unknown in error_line(result)


def test_exit_status_1_is_a_command_that_could_do_nothing(cli, tmp_path):
    unreadable = tmp_path / "notitle.jsonl"
    unreadable.write_text('{"abstract": "no title"}\n')
    cli.run("users", "create", "ada", "--password-stdin", stdin="password123\n")
    assert cli.run("import", str(unreadable), check=False).returncode == 1
    seeded = cli.run("library", "import", str(unreadable), "--user", "ada", check=False)
    assert seeded.returncode == 1
    assert cli.run("topics", "build", check=False).returncode == 1  # nothing indexed yet
    assert cli.run("stats").returncode == 0


def test_exit_status_3_is_a_source_that_cannot_be_reached(cli):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cli.env.update(PAPERTIDE_HF_API_URL=f"http://127.0.0.1:{port}/", PAPERTIDE_HTTP_BACKOFF="0")
    result = cli.run("sync", "hf", "--date", "2026-11-20", check=False)
    assert result.returncode == 3
    assert "not reachable" in error_line(result)


def test_an_unexpected_failure_is_one_error_line_not_a_traceback(cli, monkeypatch):
    from papertide.store import queries

    cli.run("init")

    def broken(conn):
        raise KeyError("a defect")

    monkeypatch.setattr(queries, "stats", broken)
    result = cli.run("stats", check=False)
    assert result.returncode == 1
    assert "unexpected KeyError" in error_line(result)


def test_a_driver_message_on_several_lines_is_printed_on_one(cli, tmp_path):
    folder = tmp_path / "a-folder.db"
    folder.mkdir()  # SQLite cannot open a folder as its file
    result = cli.run("--db", str(folder), "init", check=False)
    assert result.returncode == 2
    assert "cannot open" in error_line(result)


def test_every_readme_example_command_parses():
    """The README's examples name commands and options that exist (a renamed option would
    make one a usage error)."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```bash\n(.*?)```", readme, re.DOTALL))
    examples = [
        command.split("#")[0].strip().removeprefix("papertide ")
        for line in blocks.splitlines()
        for command in line.split("&&")
        if command.strip().startswith("papertide ")
    ]
    assert len(examples) > 15
    for example in examples:
        result = CliRunner().invoke(app, [*shlex.split(example), "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (example, result.output)


def test_stats_says_what_the_last_import_was_and_when_not_its_job_key(cli):
    cli.run("init")
    assert "last import: never" in cli.run("stats").stdout
    cli.run("import", str(FIXTURES / "arxiv_atom.xml"))
    shown = cli.run("stats").stdout
    line = next(line for line in shown.splitlines() if line.startswith("last import:"))
    assert re.fullmatch(
        r"last import: \d{4}-\d\d-\d\d \d\d:\d\d UTC, import of \S+arxiv_atom\.xml \(arxiv\): "
        r"3 new, 0 updated, 0 duplicates, 0 rejected",
        line,
    ), line
    assert "import:arxiv:" not in shown  # the job key stays internal
    run = cli.json("stats")["last_import"]
    assert run["source"].startswith("import:arxiv:") and run["what"].startswith("import of ")
    assert (run["new"], run["updated"]) == (3, 0)


def test_import_of_several_files_into_an_empty_database_counts_no_paper_as_updated(cli):
    """One command, several files naming the same papers: on an empty database every paper is
    new, however many files (or batches) bring more of it."""
    files = [str(FIXTURES / name) for name in ("zotero.bib", "arxiv_atom.xml", "hf_daily.json")]
    summary = cli.json("import", *files)
    assert summary["updated"] == 0
    assert summary["new"] == len(cli.json("list"))
    again = cli.json("import", *files)
    assert (again["new"], again["updated"]) == (0, 0)


def test_commands_print_no_blank_line_before_their_stderr_messages(cli):
    imported = cli.run("import", str(FIXTURES / "arxiv_atom.xml"))
    assert imported.stderr == ""  # the progress display is for terminals only
    indexed = cli.run("index", "--keyword-only")
    assert indexed.stderr == ""
    cli.run("import", str(FIXTURES / "hf_daily.json"))
    behind = cli.run("search", "experts", "--mode", "keyword")
    assert behind.stderr.startswith("note: ")
    bad_day = cli.run("sync", "hf", "--date", "2026-13-01", check=False)
    assert bad_day.stderr.startswith("error: ")


def test_a_progress_bar_ends_at_its_total_not_at_its_last_report():
    from papertide.cli.common import staged_progress

    with staged_progress() as show:
        show("keyword index", 19000, 19997)  # a stage reports every thousand papers
        show("embeddings", 40, None)
        first, second = show.progress.tasks
        assert (first.completed, first.total) == (19997, 19997)  # it ended when the next began
    assert (second.completed, second.total) == (40, 40)  # unknown length: ends at what it did


def test_dates_are_shown_at_the_precision_their_sources_know(cli, tmp_path):
    monthly = tmp_path / "monthly.jsonl"
    monthly.write_text('{"title": "A Paper Dated By Month", "date": "2025-03"}\n')
    cli.run("import", str(FIXTURES / "zotero.bib"), str(FIXTURES / "arxiv_atom.xml"), str(monthly))
    listed = {row.split()[0]: row.split()[1] for row in cli.run("list").stdout.splitlines()[1:]}
    by_title = {paper["title"]: paper for paper in cli.json("list")}
    year_only = by_title["Attention is all you need"]
    assert year_only["published_at"] == "2017-01-01T00:00:00"  # the JSON keeps its shape
    assert listed[year_only["id"]] == "2017"
    assert listed[by_title["A Paper Dated By Month"]["id"]] == "2025-03"
    assert listed["2611.00001"] == "2026-11-20"  # a day with a time of day: the day
    assert "published 2017\n" in cli.run("show", year_only["id"]).stdout
    assert "published 2026-11-20;" in cli.run("show", "2611.00001").stdout
    cli.run("index", "--keyword-only")
    hits = cli.run("search", "attention", "--mode", "keyword").stdout
    assert "Attention is all you need (2017)" in hits
    assert "published: 1931 to 2026-11-20" in cli.run("stats").stdout  # Gödel's is a year


def test_users_create_without_a_password_is_one_error_line_not_aborted(cli):
    result = cli.run("users", "create", "ada", stdin="", check=False)  # input ends at once
    assert result.returncode == 2
    assert "no password given" in error_line(result)


@pytest.mark.parametrize(
    "db, complaint",
    [
        ("", "PAPERTIDE_DB: is empty"),
        ("~no-such-user-of-papertide/x.db", "cannot use the path"),
        ("x" * 300 + "/papers.db", "cannot "),  # a folder name too long for any file system
        ("file:///papers.db", "file databases are not supported"),
    ],
    ids=["empty", "unknown home", "name too long", "other scheme"],
)
def test_a_database_path_that_cannot_work_is_one_error_line(cli, db, complaint):
    for command in ("stats", "init"):
        result = cli.run("--db", db, command, check=False)
        assert result.returncode == 2
        assert complaint in error_line(result) and "Value error" not in result.stderr
