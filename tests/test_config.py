"""Settings: one object reads every PAPERTIDE_* variable; the README's table matches it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import Cli
from papertide.config import Settings, SettingsError, environment_table

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_table_is_the_settings_table():
    assert environment_table() in (ROOT / "README.md").read_text()


def test_no_module_but_config_reads_the_environment():
    readers = []
    for path in sorted((ROOT / "src" / "papertide").rglob("*.py")):
        if path.name == "config.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"os\.environ|getenv|environ\.get", line):
                # serve hands the chosen database and log level to the worker processes it starts
                if path.name == "serve.py" and "os.environ.update(PAPERTIDE_DB=url" in line:
                    continue
                readers.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert readers == []


def test_values_are_validated_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("PAPERTIDE_SMTP_PORT", "seventy")
    monkeypatch.setenv("PAPERTIDE_SMTP_SECURITY", "tls")
    with pytest.raises(SettingsError) as caught:
        Settings.load()
    assert "PAPERTIDE_SMTP_PORT" in str(caught.value)
    assert "PAPERTIDE_SMTP_SECURITY" in str(caught.value)


def test_a_bare_path_is_an_sqlite_url_and_the_command_line_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("PAPERTIDE_DB", str(tmp_path / "env.db"))
    assert Settings.load().database_url == f"sqlite:///{tmp_path / 'env.db'}"
    chosen = Settings.load(db=str(tmp_path / "cli.db"))
    assert chosen.database_url == f"sqlite:///{tmp_path / 'cli.db'}"


def test_a_bad_setting_is_one_error_line_with_exit_2(cli: Cli):
    cli.env["PAPERTIDE_REFRESH_SECONDS"] = "-1"
    result = cli.run("stats", check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("error: PAPERTIDE_REFRESH_SECONDS") and "Traceback" not in (
        result.stderr
    )
