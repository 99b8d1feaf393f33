"""The topics page's map: one bubble per topic at its place on the PCA map, sized by its papers.

Drawn by the page as inline SVG (each bubble a link with a `<title>`, so hover and tap name every
topic), in a viewBox small enough that its text stays readable on a 375 px phone (~11 px there).
Only the largest topics are labelled, and only where a label overlaps no other label: 100 labels
on one map could not be read. Bubbles are pushed apart until they no longer overlap, so each can
be pointed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

WIDTH, HEIGHT = 480, 320
MARGIN = 24
FONT = 15  # in viewBox units: ~11 px on a phone, ~24 px in the 52rem desktop column
MAX_LABELS = 10
RADIUS_MIN, RADIUS_MAX = 5.0, 34.0
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip


@dataclass
class Bubble:
    id: int
    label: str
    size: int
    x: float
    y: float
    r: float
    colour: str
    labelled: bool = False
    text_x: float = 0.0  # where its label is centred: over the bubble, moved in from the edges
    text_y: float = 0.0  # its baseline

    @property
    def short(self) -> str:
        """What the map writes: the label's leading term (the whole label is its title)."""
        return self.label.split(", ")[0]


def layout(topics: list[dict[str, Any]]) -> list[Bubble]:
    """Bubbles for TOPICS (dicts with id, label, size, x, y), largest first."""
    if not topics:
        return []
    ordered = sorted(topics, key=lambda t: -t["size"])
    points = np.array([[t["x"], t["y"]] for t in ordered], dtype=float)
    sizes = np.array([t["size"] for t in ordered], dtype=float)
    radii = np.maximum(RADIUS_MAX * np.sqrt(sizes / sizes.max()), RADIUS_MIN)
    placed = _separate(_fit(points), radii)
    bubbles = [
        Bubble(t["id"], t["label"], t["size"], float(x), float(y), float(r), PALETTE[i % 10])
        for i, (t, (x, y), r) in enumerate(zip(ordered, placed, radii, strict=True))
    ]
    _choose_labels(bubbles)
    return bubbles


def _fit(points: np.ndarray) -> np.ndarray:
    """POINTS scaled into the drawing area, keeping their proportions."""
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1e-9)
    scale = min((WIDTH - 2 * MARGIN) / span[0], (HEIGHT - 2 * MARGIN) / span[1])
    centre = np.array([WIDTH, HEIGHT]) / 2
    return centre + (points - (low + high) / 2) * scale


def _separate(points: np.ndarray, radii: np.ndarray, rounds: int = 200) -> np.ndarray:
    """Push overlapping bubbles apart (each pair by half its overlap), kept inside the area."""
    points = points.copy()
    low, high = radii[:, None], np.array([WIDTH, HEIGHT]) - radii[:, None]
    rng = np.random.default_rng(0)
    for _ in range(rounds):
        delta = points[:, None, :] - points[None, :, :]
        distance = np.linalg.norm(delta, axis=2)
        overlap = radii[:, None] + radii[None, :] + 1 - distance
        np.fill_diagonal(overlap, 0)
        if (overlap <= 0).all():
            break
        same = distance < 1e-6  # bubbles on one spot: part them in a random direction
        delta[same] = rng.normal(size=(int(same.sum()), 2))
        direction = delta / np.maximum(np.linalg.norm(delta, axis=2, keepdims=True), 1e-9)
        push = np.where(overlap > 0, overlap / 2, 0)[:, :, None] * direction
        points = np.clip(points + push.sum(axis=1), low, high)
    return points


def _choose_labels(bubbles: list[Bubble]) -> None:
    """Label the largest bubbles, each on, below or above its bubble: the first place where
    its box (text width estimated at 0.55 em a character, moved in from the edges) overlaps no
    label already placed; a bubble with no such place stays unlabelled."""
    boxes: list[tuple[float, float, float, float]] = []
    for bubble in bubbles:
        if len(boxes) == MAX_LABELS:
            return
        half = len(bubble.short) * FONT * 0.55 / 2
        if not bubble.short or 2 * half > WIDTH:
            continue
        centre = min(max(bubble.x, half), WIDTH - half)
        for baseline in (
            bubble.y + FONT * 0.35,  # on the bubble
            bubble.y + bubble.r + FONT,  # below it
            bubble.y - bubble.r - FONT * 0.3,  # above it
        ):
            box = (centre - half, baseline - FONT * 0.85, centre + half, baseline + FONT * 0.25)
            inside = box[1] >= 0 and box[3] <= HEIGHT
            if inside and all(
                box[2] < other[0] or box[0] > other[2] or box[3] < other[1] or box[1] > other[3]
                for other in boxes
            ):
                bubble.labelled, bubble.text_x, bubble.text_y = True, centre, baseline
                boxes.append(box)
                break
