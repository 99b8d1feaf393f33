"""Topics: labels, incremental assignment, the map, pages and API."""

import json

import pytest
from fastapi.testclient import TestClient

from conftest import LISTING_PAGES, Cli, free_port
from papertide.rank.topics import c_tf_idf
from papertide.web.app import create_app


def test_c_tf_idf_names_what_sets_a_topic_apart():
    shared = "neural networks are trained with neural networks. "
    labels = c_tf_idf(
        [
            shared + "graph message passing on graph nodes; graph pooling",
            shared + "diffusion denoising of images; diffusion sampling",
            shared + "reward for agents; agents learn a policy; reward shaping, agents",
            shared + "a term said once: zyzzyva",
        ]
    )
    assert labels[0][0].startswith("graph") and labels[1][0].startswith("diffusion")
    assert labels[2][0].startswith("agents") or labels[2][0].startswith("reward")
    assert all("neural networks" not in terms[:1] for terms in labels[:3])  # in every topic
    assert not any("zyzzyva" in term for term in labels[3])  # once in a topic: noise


@pytest.fixture(scope="module")
def topical(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("topics")
    cli = Cli(f"sqlite:///{folder / 'papertide.db'}", folder)
    cli.run("import", str(LISTING_PAGES / "page-a.txt"))
    cli.run("index")
    cli.run("topics", "build", "--k", "6")
    return cli


@pytest.mark.shared_data
def test_topics_build_list_show_and_map(topical, tmp_path):
    listed = topical.json("topics", "list")
    assert len(listed) == 6 and sum(t["size"] for t in listed) == 68
    assert all(t["label"] and len(t["terms"]) >= 3 for t in listed)
    lora = next(t for t in listed if "lora" in " ".join(t["terms"]).lower())
    shown = topical.json("topics", "show", str(lora["id"]), "--limit", "100")
    assert any("LoRA" in p["title"] for p in shown["papers"])
    for suffix, magic in ((".png", b"\x89PNG"), (".svg", b"<?xml")):
        picture = tmp_path / f"map{suffix}"
        topical.run("topics", "map", "--out", str(picture))
        assert picture.read_bytes().startswith(magic)
    bad = topical.run("topics", "map", "--out", str(tmp_path / "map.gif"), check=False)
    assert bad.returncode == 2


@pytest.mark.shared_data
def test_new_papers_join_their_nearest_topic(topical, tmp_path):
    before = {t["id"]: t["size"] for t in topical.json("topics", "list")}
    extra = tmp_path / "new.jsonl"
    extra.write_text(
        json.dumps(
            {
                "title": "LoRA adapters with low-rank updates for fine-tuning large models",
                "abstract": "Parameter-efficient fine-tuning with low-rank adaptation (LoRA).",
            }
        )
        + "\n"
    )
    topical.run("import", str(extra))
    dead = f"http://127.0.0.1:{free_port()}"  # sources offline: only the local jobs do work
    topical.env.update(
        PAPERTIDE_ARXIV_API_URL=dead, PAPERTIDE_HF_API_URL=dead, PAPERTIDE_HTTP_BACKOFF="0"
    )
    ran = topical.json("scheduler", "--once")
    assert ran["fetch_and_index"]["topics_assigned"] == 1  # the new paper, and only it
    after = {t["id"]: t["size"] for t in topical.json("topics", "list")}
    assert sum(after.values()) == sum(before.values()) + 1


@pytest.mark.shared_data
def test_topic_pages_and_api(topical):
    client = TestClient(create_app(topical.env["PAPERTIDE_DB"]))
    page = client.get("/topics")
    assert page.status_code == 200 and 'src="/topics/map.svg' in page.text
    picture = client.get("/topics/map.svg")
    assert picture.headers["content-type"] == "image/svg+xml" and b"<svg" in picture.content
    first = client.get("/api/topics").json()[0]
    topic = client.get(f"/topics/{first['id']}")
    assert topic.status_code == 200 and first["label"] in topic.text
    assert client.get("/topics/99999").status_code == 404
    assert len(client.get(f"/api/topics/{first['id']}?limit=3").json()["papers"]) == 3


@pytest.mark.shared_data
def test_following_a_topic_follows_its_terms(topical):
    from test_web_accounts import sign_up

    client = TestClient(create_app(topical.env["PAPERTIDE_DB"]))
    sign_up(client, "topical")
    first = client.get("/api/topics").json()[0]
    page = client.get(f"/topics/{first['id']}").text
    assert "Follow this topic" in page
    token = client.cookies.get("pt_csrf")
    value = " ".join(first["terms"][:3])
    client.post("/follow", data={"kind": "query", "value": value, "csrf_token": token})
    assert f"query: {value}" in client.get("/for-you").text
