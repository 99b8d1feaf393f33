"""Root options of the command line (issue 11, item 3): version, completion, log level."""

import logging

from typer.testing import CliRunner

from papertide.cli import app


def test_version_completion_and_log_level_options_exist(db_url):
    runner = CliRunner()
    assert runner.invoke(app, ["--version"]).stdout.startswith("papertide ")
    help_text = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    for option in ("--install-completion", "--show-completion", "--log-level", "--verbose"):
        assert option in help_text, option


def test_verbose_and_log_level_set_the_level(db_url):
    runner = CliRunner()
    env = {"PAPERTIDE_DB": db_url}
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    for args, level in (
        ([], logging.WARNING),
        (["-v"], logging.INFO),
        (["-vv"], logging.DEBUG),
        (["--log-level", "ERROR"], logging.ERROR),
        (["-v", "--log-level", "error"], logging.ERROR),  # the explicit level wins
    ):
        result = runner.invoke(app, [*args, "stats"], env=env)
        assert result.exit_code == 0, result.output
        assert logging.getLogger().level == level, args


def test_a_bad_log_level_is_one_error_line(db_url):
    result = CliRunner().invoke(app, ["--log-level", "loud", "stats"], env={"PAPERTIDE_DB": db_url})
    assert result.exit_code != 0
    assert result.stderr.startswith("error:") and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_output_files_and_periods_that_cannot_work_are_one_error_line(cli, tmp_path):
    """Found by an attack review: `digest preview` tracebacks on a bad period or --out."""
    cli.run("users", "create", "writer", "--password-stdin", stdin="password123\n")
    missing = str(tmp_path / "no" / "such" / "dir" / "x.html")
    for args in (
        ("digest", "preview", "--user", "writer", "--period", "bogus", "--out", missing),
        ("digest", "preview", "--user", "writer", "--out", missing),
        ("digest", "preview", "--user", "writer", "--out", str(tmp_path / ("x" * 5000))),
        ("topics", "map", "--out", str(tmp_path / "no" / "dir" / "map.svg")),
    ):
        result = cli.run(*args, check=False)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode != 0 and "Traceback" not in result.stderr, (args, result.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
