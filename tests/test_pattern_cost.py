"""Patterns that read user input run in linear time (attack review): an arXiv id, an author
list or a paper path of 200,000 characters is answered at once, not after minutes.

Each case runs in a child process with a generous time limit: a quadratic pattern takes hours
on these inputs and a linear one milliseconds, so the limit is no timing margin."""

import subprocess
import sys
import textwrap

LIMIT_SECONDS = 120

CASES = {
    "arxiv id": "from papertide.records import normalize_arxiv_id\n"
    "assert normalize_arxiv_id('x' * 200_000) is None\n"
    "assert normalize_arxiv_id('see hep-th/9901001v2') == 'hep-th/9901001'\n"
    "assert normalize_arxiv_id('arxiv.org/abs/math.AG/0101001') == 'math.AG/0101001'",
    "author list": "from papertide.ingest.fields import as_list\n"
    "assert as_list('a' + ' ' * 200_000 + 'b') == ['a' + ' ' * 200_000 + 'b']\n"
    "assert as_list('Ada  ;  Alan') == ['Ada', 'Alan']\n"
    "assert as_list('Ada and  Alan') == ['Ada', 'Alan']",
    "paper path": "import sys\n"
    "from fastapi.testclient import TestClient\n"
    "from papertide.web.app import create_app\n"
    "client = TestClient(create_app('sqlite:///' + sys.argv[1]))\n"
    "for _ in range(5):  # the longest URL httpx sends, five times over\n"
    "    assert client.get('/papers/' + 'x' * 65_000).status_code in (400, 404, 414)",
}


def test_long_input_to_every_id_and_author_pattern_is_linear(tmp_path):
    for name, code in CASES.items():
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), str(tmp_path / f"{len(name)}.db")],
            capture_output=True,
            text=True,
            timeout=LIMIT_SECONDS,
        )
        assert result.returncode == 0, (name, result.stderr[-2000:])
