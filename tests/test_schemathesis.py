"""Standing check: schemathesis over the whole OpenAPI document, in process against the ASGI
app on a seeded database, anonymously and with an API token. Every answer must be a non-5xx
that the document declares (status, content type and body schema)."""

from datetime import datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import FIXTURES, index_database
from papertide.clock import FixedClock
from papertide.ingest.runner import import_file
from papertide.security import hash_password, new_token
from papertide.store import accounts
from papertide.store.engine import open_engine
from papertide.web.app import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bounded: the whole file stays within a few minutes on a busy two-CPU machine.
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(scope="module")
def seeded(backend, databases, tmp_path_factory, embedder):
    """The app over indexed fixture papers, and the API token of a member."""
    url = databases.new(backend, tmp_path_factory.mktemp("schemathesis"))
    engine = open_engine(url)
    for name in ("arxiv_atom.xml", "hf_daily.json", "oai_page1.xml", "zotero.bib"):
        import_file(engine, FIXTURES / name)
    with engine.begin() as conn:
        user = accounts.create_user(conn, "fuzzer", hash_password("password123"))
        token, hashed = new_token()
        accounts.create_api_token(conn, hashed, user, "schemathesis")
    engine.dispose()
    index_database(url)
    return create_app(url, FixedClock(datetime(2026, 11, 23, 12))), token


def _failures(
    app,
    headers: dict[str, str],
    mode: GenerationMode = GenerationMode.POSITIVE,
    checks: list = CHECKS,
) -> list[str]:
    """Run every operation of the app's schema for EXAMPLES cases; what failed, per operation.
    (schemathesis' own pytest plugin does not run under this pytest, so its strategies are
    driven with hypothesis directly.)"""
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = []
    for result in api.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @EXAMPLES
        def check(case):
            case.call_and_validate(headers=headers, checks=checks)

        try:
            check()
        except Unsatisfiable:
            pass  # no invalid request exists for an operation without parameters
        except (Exception, BaseExceptionGroup) as exc:  # run all, report every failure
            failures.append(f"{operation.label}: {exc}")
    return failures


def test_api_answers_anonymous_requests_as_documented(seeded):
    app, _token = seeded
    failures = _failures(app, {})
    assert not failures, "\n\n".join(failures)


def test_api_answers_token_requests_as_documented(seeded):
    app, token = seeded
    failures = _failures(app, {"Authorization": f"Bearer {token}"})
    assert not failures, "\n\n".join(failures)


def test_api_never_answers_invalid_requests_with_a_server_error(seeded):
    app, token = seeded
    headers = {"Authorization": f"Bearer {token}"}
    failures = _failures(app, headers, GenerationMode.NEGATIVE, [not_a_server_error])
    assert not failures, "\n\n".join(failures)
