"""Topics: their number, labels, merging, incremental assignment, the map, pages and API."""

import json
import re
from datetime import datetime

import numpy as np
import pytest
from fastapi.testclient import TestClient

from conftest import LISTING_PAGES, Cli, application, free_port
from papertide.rank import topic_labels, topic_map, topics
from papertide.rank.topic_labels import TermCounts, c_tf_idf, distinct_labels, merge_duplicates
from papertide.store import topics as stored
from papertide.web.app import create_app
from topic_corpus import dominant_theme_papers


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
def topical(backend, databases, tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("topics")
    cli = Cli(databases.new(backend, folder), folder)
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
    assert page.status_code == 200 and 'href="/topics/map.svg' in page.text
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


def test_topic_count_is_the_best_separated_k_near_sqrt_half_n():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(6, 16)) * 5
    points = np.concatenate([c + rng.normal(size=(30, 16)) for c in centres])
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    tried = topics.candidate_counts(len(points))
    assert min(tried) < 6 < max(tried) and topics.topic_count(len(points)) != 6
    assert topics.choose_count(points) == 6  # six blobs: six topics, not sqrt(180 / 2) = 9


def _alike_pairs(labels):
    terms = [label.split(", ") for label in labels]
    return [
        (a, b) for i, a in enumerate(terms) for b in terms[i + 1 :] if topic_labels._alike(a, b)
    ]


def test_a_theme_split_in_several_clusters_gets_one_topic_and_distinct_labels(
    tmp_path, db_url, embedder
):
    corpus = tmp_path / "dominant.jsonl"
    corpus.write_text("".join(json.dumps(p) + "\n" for p in dominant_theme_papers()))
    cli = Cli(db_url, tmp_path)
    cli.run("import", str(corpus))
    cli.run("index")
    cli.run("topics", "build", "--k", "28")  # over-split, as 100 topics of 20,000 papers were
    listed = cli.json("topics", "list")
    labels = [t["label"] for t in listed]
    leads = [label.split(", ")[0].split()[0] for label in labels]
    assert len(set(leads)) == len(leads), labels
    assert _alike_pairs(labels) == [], labels
    assert len(listed) < 28 and sum(t["size"] for t in listed) == 90
    assert all(t["terms"][: len(t["label"].split(", "))] == t["label"].split(", ") for t in listed)


def test_topics_that_read_alike_and_lie_near_are_merged(monkeypatch):
    monkeypatch.setattr(topic_labels, "NEIGHBOURS", 1)
    theme = "speech music " * 40  # one theme said so often that it names every cluster of it
    texts = [
        theme + "flow matching flow matching",
        theme + "gan vocoder gan vocoder",
        theme + "singing voice singing voice",  # reads alike, but lies apart
        "graph nodes graph nodes message passing message passing",
        "images pixels images pixels masks masks",
        "policy reward policy reward agents agents",
    ]
    centroids = np.array(
        [
            [1, 0, 0, 0],
            [0.95, 0.3, 0, 0],
            [0, 0, 1, 0.2],
            [0, 0, 0.2, 1],
            [0, 1, 0, 0],
            [0, 0.3, 0, 1],
        ]
    )
    counts = TermCounts.of(texts)
    assert [terms[0] for terms in counts.distinctive()[:3]] == ["music"] * 3
    groups = merge_duplicates(counts, centroids.astype(float), np.ones(6))
    assert sorted(map(sorted, groups)) == [[0, 1], [2], [3], [4], [5]]
    labels, _ = distinct_labels(counts.grouped(groups).distinctive(), [2, 1, 1, 1, 1])
    assert labels[0].startswith("music") and not labels[1].startswith(("music", "speech"))


def test_no_two_labels_start_alike():
    terms = [["speech", "music", "audio"], ["speech synthesis", "vocoder"], ["music", "speech"]]
    labels, ordered = distinct_labels(terms, [30, 20, 10])
    assert labels == ["speech, music, audio", "vocoder", "music"]
    assert ordered[1] == ["vocoder", "speech synthesis"]


def _store_topics(db_url, rows):
    pt = application(db_url)
    now = datetime(2026, 11, 1)
    full = [{"centroid": np.zeros(4, "<f4").tobytes(), "computed_at": now, **row} for row in rows]
    with pt.engine.begin() as conn:
        stored.replace_all(conn, full, [])
    pt.close()


def test_topic_list_has_no_dangling_separator(db_url):
    _store_topics(
        db_url,
        [
            {
                "id": 1,
                "label": "graph, nodes",
                "terms": ["graph", "nodes"],
                "size": 2,
                "x": 0,
                "y": 0,
            },
            {"id": 2, "label": "speech", "terms": [], "size": 1, "x": 1, "y": 1},
        ],
    )
    client = TestClient(create_app(db_url))
    listing = client.get("/topics").text
    assert "2 papers</span>" in listing and "1 paper</span>" in listing
    assert not re.search(r"·\s*</span>", listing)
    for topic_id in (1, 2):
        page = client.get(f"/topics/{topic_id}").text
        assert not re.search(r"·\s*·", page)


def test_the_map_names_only_the_largest_topics_and_every_bubble_on_hover(db_url):
    rng = np.random.default_rng(0)
    rows = [
        {
            "id": i + 1,
            "label": f"theme{i}, term{i}, word{i}",
            "terms": [f"theme{i}", f"term{i}", f"word{i}"],
            "size": int(1000 / (i + 1)),
            "x": float(x),
            "y": float(y),
        }
        for i, (x, y) in enumerate(rng.normal(size=(100, 2)))
    ]
    _store_topics(db_url, rows)
    page = TestClient(create_app(db_url)).get("/topics").text
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert f'viewBox="0 0 {topic_map.WIDTH} {topic_map.HEIGHT}"' in svg
    assert svg.count("<circle") == 100 and svg.count("<title>") == 100
    named = re.findall(r"<text [^>]*>([^<]+)</text>", svg)
    assert 3 <= len(named) <= topic_map.MAX_LABELS and "theme0" in named
    bubbles = topic_map.layout(rows)
    boxes = [
        (
            b.text_x - len(b.short) * topic_map.FONT * 0.275,
            b.text_y,
            b.text_x + len(b.short) * topic_map.FONT * 0.275,
        )
        for b in bubbles
        if b.labelled
    ]
    for i, (left, base, right) in enumerate(boxes):
        for other_left, other_base, other_right in boxes[i + 1 :]:
            apart = right < other_left or left > other_right
            assert apart or abs(base - other_base) >= topic_map.FONT, (
                boxes[i],
                (other_left, other_base),
            )
    # on a 375 px phone (a 351 px column) the labels are still ~11 px tall
    assert topic_map.FONT * 351 / topic_map.WIDTH >= 10.5


def test_merge_duplicates_never_pairs_a_topic_with_itself():
    # With no more topics than NEIGHBOURS, a topic is among its own nearest; it always reads
    # like itself, so 3 unlike topics crashed `topics build` (IndexError) on a 33-paper library.
    import numpy as np

    from papertide.rank.topic_labels import TermCounts, merge_duplicates

    counts = TermCounts.of(["alpha alpha beta beta", "gamma gamma delta delta", "omega omega"])
    groups = merge_duplicates(counts, np.eye(3), np.ones(3))
    assert sorted(groups) == [[0], [1], [2]]
