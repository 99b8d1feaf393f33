"""Requests an attack review of issue 10's fixes found still answering 500: non-ASCII CSRF
tokens, and validation errors that echo a JSON NaN, Infinity or lone surrogate."""

import pytest
from fastapi.testclient import TestClient

from papertide.web.app import create_app


@pytest.fixture
def client(db_url):
    return TestClient(create_app(db_url))


def test_a_non_ascii_csrf_token_is_refused_not_a_500(client):
    for path in ("/logout", "/signup", "/login", "/subscribe", "/follow"):
        form = client.post(
            path,
            data={"csrf_token": "é"},
            headers={"cookie": "pt_csrf=abc"},
            follow_redirects=False,
        )
        header = client.post(
            path,
            headers={"x-csrf-token": "é".encode(), "cookie": "pt_csrf=abc"},
            follow_redirects=False,
        )
        cookie = client.post(
            path,
            data={"csrf_token": "abc"},
            headers={"cookie": "pt_csrf=é".encode()},
            follow_redirects=False,
        )
        assert (form.status_code, header.status_code, cookie.status_code) == (403, 403, 403), path


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/me/password", '{"current_password": NaN, "new_password": "x"}'),
        ("POST", "/api/me/follows", '{"kind": "author", "value": Infinity}'),
        ("POST", "/api/me/follows", '{"kind": "query", "value": "x", "undo": "\\ud800"}'),
        ("PUT", "/api/papers/1706.03762/hidden", '{"hidden": "\\ud800"}'),
        ("PUT", "/api/papers/1706.03762/hidden", '{"hidden": -Infinity}'),
    ],
)
def test_validation_errors_echoing_nan_infinity_or_surrogates_are_422_not_500(
    client, method, path, body
):
    response = client.request(
        method, path, content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"]  # says what was wrong, as JSON that parses
