"""Whom to approach: societies not yet serving an industry, ranked, each with reasons and evidence.

Candidates come from what the graph knows, never from the spelling of names:

- **expertise**: the society's field covers the industry (EXPERT_IN the industry or one of
  its sub-industries: +4), the division it belongs to (its parent: +3) or the section above
  that (+1.5); each times the basis weight of the expertise fact (reference 0.9, inferred 0.5).
- **serves related industries** (+2 each): the society already serves, by a channel of
  service, an industry next to this one in the hierarchy: its parent, a sibling, a child
  of its parent.
- **shares talents** (+1 each): a talent who is a member of the society already advises an
  enterprise of the industry or of a related one.
- **already a partner** (+2.5): the society is party to an agreement in force, so extending
  it costs least. The bonus is added to a society that is a candidate for one of the
  reasons above: a partner with the same expertise ranks above a stranger.

Societies already serving the industry or a sub-industry are left out; ties are ordered by
name and id. Every reason is given in English and in Chinese, with the chains behind it.
:func:`recommendations` with ``explain=`` also says why one named society is, or is not,
suggested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from graph_service.core.ontology import Basis, Node, NodeKind, RelType
from graph_service.core.store import GraphStore, Path, PathStep
from queries.common import BASIS_WEIGHT, EvidenceWords, alive, path_alive, resolve_entity, sub_industries
from queries.models import Channel, EvidencePath, NodeRef, ResultModel
from queries.serving import CHANNELS, EXPERTISE, serving_paths

__all__ = ["Explanation", "Reason", "Recommendation", "Recommendations", "recommendations"]

EXPERTISE_WEIGHT = {"own": 4.0, "parent": 3.0, "grandparent": 1.5}
"""Points for expertise in the industry itself (or a sub-industry), its parent, the level above."""
RELATED_WEIGHT = 2.0
"""Points for each related industry the society already serves."""
TALENT_WEIGHT = 1.0
"""Points for each member talent advising an enterprise of the industry or a related one."""
PARTNER_WEIGHT = 2.5
"""Points for being party to an agreement in force, given to a candidate for another reason."""
MAX_EVIDENCE = 3
"""Evidence chains shown per reason at most."""

ReasonKind = Literal["expertise", "related_service", "talent", "partner", "serving", "none"]


class Reason(ResultModel):
    """One reason to approach a society, in both languages, with the chains that support it."""

    kind: ReasonKind
    points: float = Field(description="What the reason adds to the score.")
    text: str = Field(description="The reason in English.")
    text_zh: str = Field(description="The reason in Chinese.")
    evidence: list[EvidencePath] = Field(default_factory=list)


class Recommendation(ResultModel):
    """A society worth approaching for the industry, and why."""

    society: NodeRef
    rank: int = Field(description="1 for the best candidate.")
    score: float
    reasons: list[Reason]


class Explanation(ResultModel):
    """Why one named society is, or is not, suggested for the industry."""

    society: NodeRef
    suggested: bool = Field(description="Whether it is among the candidates shown.")
    rank: int | None = Field(description="Its rank among all candidates, if it is one.")
    score: float
    text: str
    text_zh: str
    reasons: list[Reason]


class Recommendations(ResultModel):
    """Societies to approach for an industry, best first."""

    industry: NodeRef
    already_serving: list[NodeRef]
    total: int = Field(description="Candidates found in all.")
    count: int = Field(description="Candidates shown.")
    results: list[Recommendation]
    explanation: Explanation | None = None


@dataclass(slots=True)
class _Draft:
    """A reason before it is put into words: its chains stay store paths until the candidate is
    shown (a busy industry has hundreds of candidates and shows ten)."""

    kind: ReasonKind
    points: float
    text: str
    text_zh: str
    chains: list[tuple[Channel | None, Path]]

    def reason(self, words: EvidenceWords) -> Reason:
        return Reason(
            kind=self.kind,
            points=self.points,
            text=self.text,
            text_zh=self.text_zh,
            evidence=[words.path(path, channel, reverse=True) for channel, path in self.chains],
        )


@dataclass(slots=True)
class _Candidate:
    society: Node
    score: float = 0.0
    reasons: list[_Draft] = field(default_factory=list)

    def add(self, reason: _Draft) -> None:
        self.score += reason.points
        self.reasons.append(reason)

    def shown(self, rank: int, words: EvidenceWords) -> Recommendation:
        return Recommendation(
            society=NodeRef.of(self.society),
            rank=rank,
            score=round(self.score, 4),
            reasons=[r.reason(words) for r in self.reasons],
        )


_CandidateFn = Callable[[Node], _Candidate | None]
"""The candidate entry of a society, or ``None`` for one that cannot be a candidate."""


def recommendations(
    store: GraphStore,
    industry: str,
    *,
    limit: int = 10,
    as_of: str | None = None,
    explain: str | None = None,
) -> Recommendations:
    """Rank the societies not yet serving an industry by how likely they are to help.

    Args:
        store: the graph.
        industry: an id, a code, an English or Chinese name, or an alias.
        limit: candidates shown at most.
        as_of: answer as the ecosystem stood on this date.
        explain: a society (id or name) to explain: why it is, or is not, suggested.

    Raises:
        NotFound: no such industry, or no such society to explain (with suggestions).
    """
    target = resolve_entity(store, industry, NodeKind.INDUSTRY)
    explained = resolve_entity(store, explain, NodeKind.SOCIETY) if explain else None
    words = EvidenceWords()
    family = [target, *sub_industries(store, target.id, as_of)]
    family_ids = {n.id for n in family}
    serving: dict[str, tuple[Node, list[tuple[Channel, Path]]]] = {}
    for member in family:
        for channel, path in serving_paths(store, member.id, as_of=as_of):
            society = path.nodes[-1]
            serving.setdefault(society.id, (society, []))[1].append((channel, path))
    parents = _up(store, [target.id], as_of)
    grandparents = _up(store, [p.id for p in parents], as_of)
    related = _related(store, parents, family_ids, as_of)
    candidates: dict[str, _Candidate] = {}

    def candidate(society: Node) -> _Candidate | None:
        if society.id in serving or not alive(society, as_of):
            return None
        return candidates.setdefault(society.id, _Candidate(society))

    _expertise(store, target, family, "own", candidate, as_of)
    for parent in parents:
        _expertise(store, target, [parent], "parent", candidate, as_of)
    for grandparent in grandparents:
        _expertise(store, target, [grandparent], "grandparent", candidate, as_of)
    for other in related:
        by_society: dict[str, list[tuple[Channel, Path]]] = {}
        for channel, path in serving_paths(store, other.id, as_of=as_of):
            by_society.setdefault(path.nodes[-1].id, []).append((channel, path))
        for paths in by_society.values():
            found = candidate(paths[0][1].nodes[-1])
            if found is None:
                continue
            channels = list(dict.fromkeys(channel for channel, _ in paths))
            found.add(
                _Draft(
                    kind="related_service",
                    points=RELATED_WEIGHT,
                    text=f"already serves the related industry {other.name} ({', '.join(channels)})",
                    text_zh=f"已服务相关产业{_zh(other)}（{'、'.join(_CHANNEL_ZH[c] for c in channels)}）",
                    chains=list(paths[:MAX_EVIDENCE]),
                )
            )
    _talents(store, [*family, *related], candidate, as_of)
    _partners(store, candidates, as_of)
    ranked = sorted(candidates.values(), key=lambda c: (-round(c.score, 9), c.society.name, c.society.id))
    results = [c.shown(rank, words) for rank, c in enumerate(ranked[:limit], start=1)]
    explanation = None
    if explained is not None:
        explanation = _explain(
            store, target, explained, ranked, limit, serving.get(explained.id), parents, words, as_of
        )
    return Recommendations(
        industry=NodeRef.of(target),
        already_serving=[NodeRef.of(serving[i][0]) for i in sorted(serving)],
        total=len(ranked),
        count=len(results),
        results=results,
        explanation=explanation,
    )


_CHANNEL_ZH: dict[str, str] = {
    "direct": "直接服务",
    "agreement": "合作协议",
    "program": "项目与平台",
    "talent": "会员人才",
    "expertise": "专业领域",
}
_LEVEL_TEXT = {
    "own": ("its field covers {industry}", "其专业领域涵盖{industry}"),
    "parent": (
        "its field covers {other}, of which {industry} is part",
        "其专业领域涵盖{other}，{industry}属于该门类",
    ),
    "grandparent": (
        "its field covers {other}, the wider sector {industry} belongs to",
        "其专业领域涵盖{industry}所在的大类{other}",
    ),
}


def _zh(node: Node | NodeRef) -> str:
    return node.name_zh or node.name


def _label(node: Node) -> str:
    code = getattr(node, "code", None)
    return f"{node.name} ({code})" if code and code not in node.name else node.name


def _label_zh(node: Node) -> str:
    code = getattr(node, "code", None)
    name = _zh(node)
    return f"{name}（{code}）" if code and code not in name else name


def _expertise(
    store: GraphStore,
    target: Node,
    industries: Iterable[Node],
    level: str,
    candidate: _CandidateFn,
    as_of: str | None,
) -> None:
    """Add a reason for each society with expertise in one of these industries."""
    for industry in industries:
        for path in store.match_paths(industry.id, EXPERTISE[0], limit=None):
            if not path_alive(path, as_of):
                continue
            found = candidate(path.nodes[-1])
            if found is None or any(r.kind == "expertise" for r in found.reasons):
                continue
            basis = path.relationships[0].provenance.basis
            text, text_zh = _LEVEL_TEXT["own" if industry.id == target.id else level]
            found.add(
                _Draft(
                    kind="expertise",
                    points=round(EXPERTISE_WEIGHT[level] * BASIS_WEIGHT[basis], 4),
                    text=text.format(industry=target.name, other=_label(industry)) + _basis_note(basis, "en"),
                    text_zh=text_zh.format(industry=_zh(target), other=_label_zh(industry))
                    + _basis_note(basis, "zh"),
                    chains=[("expertise", path)],
                )
            )


def _basis_note(basis: Basis, lang: str) -> str:
    if basis == Basis.REFERENCE:
        return " (its published scope)" if lang == "en" else "（据其公开的业务范围）"
    if basis == Basis.INFERRED:
        return " (inferred from its name and discipline)" if lang == "en" else "（据其名称与学科推断）"
    return ""


def _talents(
    store: GraphStore,
    industries: list[Node],
    candidate: _CandidateFn,
    as_of: str | None,
) -> None:
    """Every member talent advising an enterprise of these industries: one walk per industry."""
    for member in industries:
        for path in store.match_paths(member.id, CHANNELS["talent"][0], limit=None):
            if not path_alive(path, as_of):
                continue
            _, enterprise, talent, society = path.nodes
            found = candidate(society)
            if found is None:
                continue
            found.add(
                _Draft(
                    kind="talent",
                    points=TALENT_WEIGHT,
                    text=f"its member {talent.name} advises {enterprise.name} in {member.name}",
                    text_zh=f"其会员{_zh(talent)}指导{member.name_zh or member.name}产业的{_zh(enterprise)}",
                    chains=[("talent", path)],
                )
            )


_PARTIES = (PathStep(types=(RelType.PARTY_TO,), direction="in", kinds=(NodeKind.SOCIETY,)),)


def _partners(store: GraphStore, candidates: dict[str, _Candidate], as_of: str | None) -> None:
    """The bonus of the candidates already party to an agreement in force."""
    if not candidates:
        return
    for agreement in store.iter_nodes(NodeKind.AGREEMENT):
        if not alive(agreement, as_of):
            continue
        for path in store.match_paths(agreement.id, _PARTIES, limit=None):
            found = candidates.get(path.nodes[-1].id)
            if found is None or not path_alive(path, as_of):
                continue
            if any(r.kind == "partner" for r in found.reasons):
                continue
            signed = f", signed {agreement.since}" if agreement.since else ""
            signed_zh = f"，{agreement.since}签署" if agreement.since else ""
            found.add(
                _Draft(
                    kind="partner",
                    points=PARTNER_WEIGHT,
                    text=f"already a partner: party to {agreement.name}{signed}",
                    text_zh=f"已是合作伙伴：签有{_zh(agreement)}{signed_zh}",
                    chains=[(None, path)],
                )
            )


def _explain(
    store: GraphStore,
    target: Node,
    society: Node,
    ranked: list[_Candidate],
    limit: int,
    serving: tuple[Node, list[tuple[Channel, Path]]] | None,
    parents: list[Node],
    words: EvidenceWords,
    as_of: str | None,
) -> Explanation:
    """Why ``society`` is, or is not, suggested for ``target``."""
    ref = NodeRef.of(society)
    name, name_zh = society.name, _zh(society)
    industry, industry_zh = target.name, _zh(target)
    if serving is not None:
        channels = list(dict.fromkeys(c for c, _ in serving[1]))
        reason = Reason(
            kind="serving",
            points=0.0,
            text=f"already serves {industry} ({', '.join(channels)})",
            text_zh=f"已服务{industry_zh}（{'、'.join(_CHANNEL_ZH[c] for c in channels)}）",
            evidence=[words.path(p, c, reverse=True) for c, p in serving[1][:MAX_EVIDENCE]],
        )
        return Explanation(
            society=ref,
            suggested=False,
            rank=None,
            score=0.0,
            text=f"{name} is not suggested because it already serves {industry}.",
            text_zh=f"{name_zh}已在服务{industry_zh}，因此不在建议之列。",
            reasons=[reason],
        )
    for rank, entry in enumerate(ranked, start=1):
        if entry.society.id == society.id:
            found = entry.shown(rank, words)
            shown = rank <= limit
            because = "; ".join(r.text for r in found.reasons)
            because_zh = "；".join(r.text_zh for r in found.reasons)
            return Explanation(
                society=ref,
                suggested=shown,
                rank=rank,
                score=found.score,
                text=f"{name} ranks {rank} of {len(ranked)} (score {found.score:g}): {because}."
                + ("" if shown else f" Only the first {limit} are shown."),
                text_zh=f"{name_zh}在{len(ranked)}个候选中排第{rank}（得分{found.score:g}）：{because_zh}。"
                + ("" if shown else f"仅显示前{limit}个。"),
                reasons=found.reasons,
            )
    fields = [
        p.nodes[-1]
        for p in store.match_paths(
            society.id,
            (PathStep(types=(RelType.EXPERT_IN,), direction="out", kinds=(NodeKind.INDUSTRY,)),),
            limit=None,
        )
        if path_alive(p, as_of)
    ]
    where = f" or {', '.join(_label(p) for p in parents)}, which it is part of" if parents else ""
    where_zh = f"及其所属的{'、'.join(_label_zh(p) for p in parents)}" if parents else ""
    if fields:
        its = "; its field covers " + ", ".join(_label(f) for f in fields)
        its_zh = "；其专业领域涵盖" + "、".join(_label_zh(f) for f in fields)
    else:
        its, its_zh = "; the graph records no field of expertise for it", "；图谱中没有其专业领域的记录"
    return Explanation(
        society=ref,
        suggested=False,
        rank=None,
        score=0.0,
        text=f"{name} is not suggested: its field does not cover {industry}{where}, "
        f"it serves no related industry and no member talent advises enterprises there{its}.",
        text_zh=f"{name_zh}不在建议之列：其专业领域不涵盖{industry_zh}{where_zh}，"
        f"未服务相关产业，也没有会员人才指导相关企业{its_zh}。",
        reasons=[],
    )


def _up(store: GraphStore, ids: list[str], as_of: str | None) -> list[Node]:
    """The industries these industries are part of."""
    found: dict[str, Node] = {}
    for industry_id in ids:
        for hop in store.neighbors(
            industry_id, direction="out", types=[RelType.PART_OF], kinds=[NodeKind.INDUSTRY], limit=None
        ):
            if alive(hop.node, as_of):
                found[hop.node.id] = hop.node
    return [found[i] for i in sorted(found)]


def _related(store: GraphStore, parents: list[Node], family: set[str], as_of: str | None) -> list[Node]:
    """The parents of the industry and their other children (siblings), family aside."""
    related: dict[str, Node] = {p.id: p for p in parents}
    for parent in parents:
        for sibling in store.neighbors(
            parent.id, direction="in", types=[RelType.PART_OF], kinds=[NodeKind.INDUSTRY], limit=None
        ):
            if alive(sibling.node, as_of):
                related[sibling.node.id] = sibling.node
    return [related[i] for i in sorted(related) if i not in family]
