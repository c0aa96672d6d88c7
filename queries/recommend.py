"""Whom to approach: societies not yet serving an industry, ranked, each with reasons a planner can read.

Three reasons, each adding to the score:

- **serves related industries** (+3 each): the society already serves, by any channel,
  an industry next to this one in the hierarchy — its parent, a sibling, a child.
- **discipline match** (+2): the society's name or discipline shares a meaningful
  word stem (English, first six letters) or two-character word (Chinese) with the
  industry's names; common words such as "society", "China", "industry", 学会,
  中国 do not count.
- **shares talents** (+1 each): a talent who is a member of the society already
  advises an enterprise of the industry or of a related one.

Societies already serving the industry are left out; ties are ordered by name and id.
"""

from __future__ import annotations

import re

from pydantic import Field

from graph_service.ontology import Node, NodeKind, RelType, normalize_name
from graph_service.store import GraphStore
from queries.common import alive, path_alive, resolve_entity, sub_industries
from queries.models import NodeRef, ResultModel
from queries.serving import CHANNELS, serving_paths

__all__ = ["Recommendation", "Recommendations", "recommendations"]

RELATED_WEIGHT = 3.0
DISCIPLINE_WEIGHT = 2.0
TALENT_WEIGHT = 1.0
_STOP_WORDS = {
    "a", "and", "association", "china", "chinese", "co", "engineering", "for", "industry", "industries",
    "institute", "ltd", "of", "research", "science", "sciences", "society", "technology", "the",
    "translation", "unverified", "manufacturing", "products", "services",
}  # fmt: skip
_STOP_BIGRAMS = {
    "中国", "学会", "协会", "工程", "研究", "科学", "技术", "产业", "制造", "产品", "服务", "工科", "理科",
    "农科", "医科", "交叉", "学科", "研究会", "全国", "国际",
}  # fmt: skip


class Recommendation(ResultModel):
    """A society worth approaching for the industry, and why."""

    society: NodeRef
    score: float
    reasons: list[str] = Field(description="Sentences a planner can read.")


class Recommendations(ResultModel):
    """Societies to approach for an industry, best first."""

    industry: NodeRef
    already_serving: list[NodeRef]
    count: int
    results: list[Recommendation]


def recommendations(
    store: GraphStore, industry: str, *, limit: int = 10, as_of: str | None = None
) -> Recommendations:
    """Rank the societies not yet serving an industry by how likely they are to help.

    Raises:
        NotFound: no such industry (with suggestions).
    """
    target = resolve_entity(store, industry, NodeKind.INDUSTRY)
    family = [target, *sub_industries(store, target.id, as_of)]
    serving: dict[str, Node] = {}
    for member in family:
        for _, path in serving_paths(store, member.id, as_of=as_of):
            serving[path.nodes[-1].id] = path.nodes[-1]
    related = _related_industries(store, target, {n.id for n in family}, as_of)
    scores: dict[str, float] = {}
    reasons: dict[str, list[str]] = {}
    societies: dict[str, Node] = {}

    def add(society: Node, points: float, reason: str) -> None:
        if society.id in serving:
            return
        societies[society.id] = society
        scores[society.id] = scores.get(society.id, 0.0) + points
        if reason not in reasons.setdefault(society.id, []):
            reasons[society.id].append(reason)

    for other in related:
        for channel, path in serving_paths(store, other.id, as_of=as_of):
            add(path.nodes[-1], RELATED_WEIGHT, f"serves the related industry {other.name} ({channel})")
    words = _keywords(target)
    for society in store.iter_nodes(NodeKind.SOCIETY):
        if not alive(society, as_of):
            continue
        shared = words & _keywords(society)
        if shared:
            add(
                society,
                DISCIPLINE_WEIGHT,
                f"its name or discipline matches the industry ({', '.join(sorted(shared))})",
            )
    # every member talent advising an enterprise of the industry or a related one: one walk
    # per industry (enterprise <- talent -> society), however many enterprises it has
    for member in [*family, *related]:
        for path in store.match_paths(member.id, CHANNELS["talent"][0], limit=None):
            if not path_alive(path, as_of):
                continue
            _, enterprise, talent, society = path.nodes
            add(
                society, TALENT_WEIGHT, f"its member {talent.name} advises {enterprise.name} in {member.name}"
            )
    ranked = sorted(scores, key=lambda i: (-scores[i], societies[i].name, i))[:limit]
    return Recommendations(
        industry=NodeRef.of(target),
        already_serving=[NodeRef.of(serving[i]) for i in sorted(serving)],
        count=len(ranked),
        results=[
            Recommendation(society=NodeRef.of(societies[i]), score=scores[i], reasons=reasons[i])
            for i in ranked
        ],
    )


def _related_industries(store: GraphStore, target: Node, family: set[str], as_of: str | None) -> list[Node]:
    """Parents of the industry, their other children (siblings), and nothing already in the family."""
    related: dict[str, Node] = {}
    for parent in store.neighbors(
        target.id, direction="out", types=[RelType.PART_OF], kinds=[NodeKind.INDUSTRY], limit=None
    ):
        if not alive(parent.node, as_of):
            continue
        related[parent.node.id] = parent.node
        for sibling in store.neighbors(
            parent.node.id, direction="in", types=[RelType.PART_OF], kinds=[NodeKind.INDUSTRY], limit=None
        ):
            if alive(sibling.node, as_of):
                related[sibling.node.id] = sibling.node
    return [related[i] for i in sorted(related) if i not in family]


def _keywords(node: Node) -> set[str]:
    texts = [node.name, *(node.aliases or ())]
    discipline = getattr(node, "discipline", None)
    if discipline:
        texts.append(discipline)
    words: set[str] = set()
    for text in texts:
        for word in re.findall(r"[a-z]{3,}", normalize_name(text)):
            if word not in _STOP_WORDS:
                words.add(word[:6])
    for text in (node.name_zh or "", node.name):
        for run in re.findall(r"[\u4e00-\u9fff]{2,}", text):
            words |= {run[i : i + 2] for i in range(len(run) - 1)} - _STOP_BIGRAMS
    return words
