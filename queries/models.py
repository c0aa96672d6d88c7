"""Result models of the query catalog: every answer carries the evidence that supports it."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from graph_service.core.ontology import Basis, Node, NodeKind, Relationship, RelType

__all__ = [
    "Channel",
    "EvidencePath",
    "EvidenceStep",
    "NodeRef",
    "ResultModel",
]

Channel = Literal["direct", "agreement", "program", "talent", "expertise"]
"""How a society is tied to an industry: SERVES it itself, through an agreement covering it,
through a program serving it, or through member talents advising its enterprises — the four
channels of service — or, a weaker tie asked for by name, its field covers the industry
(``expertise``: EXPERT_IN, what it could do rather than what it does)."""


class ResultModel(BaseModel):
    """Base of every result: strict, so a misspelt field is a bug and not a silent gap."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """A result from values already checked, every field given: what ``model_construct``
        makes, without its per-field pass over defaults and aliases (a third of the time; a
        busy industry's answer holds thousands of these). ``tests/unit`` holds it equal to
        ``model_construct`` and to validation."""
        model = cls.__new__(cls)
        _set = object.__setattr__
        _set(model, "__dict__", values)
        _set(model, "__pydantic_fields_set__", set(values))
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model


class NodeRef(ResultModel):
    """Enough of a node to name it and link to it."""

    id: str
    kind: NodeKind
    name: str
    name_zh: str | None = None

    @classmethod
    def of(cls, node: Node) -> NodeRef:
        """The reference to a node (already checked as a node: not validated again)."""
        return cls.trusted(id=node.id, kind=node.kind, name=node.name, name_zh=node.name_zh)


class EvidenceStep(ResultModel):
    """One relationship of an evidence chain, with its provenance."""

    source: str = Field(description="Id of the node the relationship starts from.")
    type: RelType
    target: str = Field(description="Id of the node it points to.")
    basis: Basis
    evidence: str = Field(description="The clause of the source document that supports it.")
    document: str = Field(description="Key of the source document.")
    since: str | None = None

    @classmethod
    def of(cls, rel: Relationship) -> EvidenceStep:
        """The evidence step for a relationship (already checked: not validated again)."""
        return cls.trusted(
            source=rel.source,
            type=rel.type,
            target=rel.target,
            basis=rel.provenance.basis,
            evidence=rel.provenance.evidence,
            document=rel.provenance.source,
            since=rel.since,
        )


class EvidencePath(ResultModel):
    """A chain of relationships that supports an answer, and the same chain in words."""

    channel: Channel | None = None
    nodes: list[NodeRef]
    steps: list[EvidenceStep]
    sentence: str = Field(description="The chain read aloud, e.g. 'CMES — takes part in — … — serves — …'.")
    sentence_zh: str = Field(
        default="",
        description="The same chain in Chinese, each verb on an arrow pointing as its relationship does, "
        "e.g. '中国机械工程学会 —参与→ … —服务→ …'.",
    )
    weakest_basis: Basis = Field(description="The least certain basis along the chain.")
