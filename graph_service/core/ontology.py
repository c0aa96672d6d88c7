"""The ontology: node kinds, relationship kinds, the pairs they may join, ids and provenance.

Every layer speaks this one model. Loaders produce :class:`Node` and
:class:`Relationship` values, stores persist them as flat property maps
(:meth:`Node.to_props` / :func:`node_from_props`), queries and views read them back.

Example:
    >>> society = Society(id="society:cmes", name="Chinese Mechanical Engineering Society",
    ...                   provenance=Provenance(source="ref", basis=Basis.REFERENCE))
    >>> check_pair(RelType.SERVES, NodeKind.SOCIETY, NodeKind.INDUSTRY)
"""

from __future__ import annotations

import json
import operator
import re
import unicodedata
from collections import deque
from collections.abc import Iterator, Mapping, Sequence, Set
from enum import StrEnum
from functools import cache, lru_cache
from itertools import repeat
from typing import Annotated, Any, ClassVar, Literal, TypeVar, overload

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    WrapValidator,
    field_validator,
)

from graph_service.core.errors import InvalidRequest
from graph_service.core.text import CANONICAL_ASCII, canonical_id, clean_text, partial_date

__all__ = [
    "ALLOWED_PAIRS",
    "ID_PREFIX",
    "NODE_MODELS",
    "PRIVATE_FIELDS",
    "Agreement",
    "Basis",
    "Enterprise",
    "Industry",
    "Node",
    "NodeKind",
    "Organization",
    "Park",
    "PartialDate",
    "Program",
    "Provenance",
    "Region",
    "RelType",
    "Relationship",
    "RelationshipColumns",
    "RelationshipFacts",
    "Society",
    "Talent",
    "alive",
    "assemble_nodes",
    "assemble_relationship",
    "check_pair",
    "column_adapter",
    "ids_of_kind",
    "in_period",
    "kind_of_id",
    "make_id",
    "node_from_props",
    "normalize_name",
    "provenance",
    "relationship_from_props",
    "shareable",
    "starts_within",
]

MAX_TEXT = 2000
"""Longest accepted value of a free-text field (evidence, description), in characters."""
MAX_NAME = 300
"""Longest accepted name or alias, in characters."""


class NodeKind(StrEnum):
    """The kinds of entity in an innovation ecosystem; each is a Neo4j label."""

    SOCIETY = "Society"
    TALENT = "Talent"
    ENTERPRISE = "Enterprise"
    PARK = "Park"
    INDUSTRY = "Industry"
    AGREEMENT = "Agreement"
    REGION = "Region"
    ORGANIZATION = "Organization"
    PROGRAM = "Program"


class RelType(StrEnum):
    """The kinds of relationship; each is a Neo4j relationship type."""

    SERVES = "SERVES"
    PARTY_TO = "PARTY_TO"
    COVERS = "COVERS"
    PARTICIPATES_IN = "PARTICIPATES_IN"
    MEMBER_OF = "MEMBER_OF"
    ADVISES = "ADVISES"
    HOSTS = "HOSTS"
    LOCATED_IN = "LOCATED_IN"
    OPERATES_IN = "OPERATES_IN"
    FOCUSES_ON = "FOCUSES_ON"
    PART_OF = "PART_OF"
    EXPERT_IN = "EXPERT_IN"
    """A society's field covers an industry: a reference layer of expertise, not service."""


class Basis(StrEnum):
    """How a fact is known."""

    STATED = "stated"
    """Said in so many words by the source document."""
    INFERRED = "inferred"
    """Concluded by the curator from the source; the evidence clause says from what."""
    REFERENCE = "reference"
    """Taken from a public reference list (codes, member lists, divisions)."""
    SYNTHETIC = "synthetic"
    """Made up by the generator for benchmarks; never mixed with real data."""


K = NodeKind
ALLOWED_PAIRS: dict[RelType, frozenset[tuple[NodeKind, NodeKind]]] = {
    RelType.SERVES: frozenset((s, K.INDUSTRY) for s in (K.SOCIETY, K.PROGRAM, K.TALENT, K.ORGANIZATION)),
    RelType.PARTY_TO: frozenset(
        (s, K.AGREEMENT) for s in (K.SOCIETY, K.ORGANIZATION, K.REGION, K.ENTERPRISE, K.PARK)
    ),
    RelType.COVERS: frozenset({(K.AGREEMENT, K.INDUSTRY), (K.AGREEMENT, K.PROGRAM)}),
    RelType.PARTICIPATES_IN: frozenset(
        (s, K.PROGRAM) for s in (K.SOCIETY, K.TALENT, K.ORGANIZATION, K.ENTERPRISE)
    ),
    RelType.MEMBER_OF: frozenset(
        {
            (K.TALENT, K.SOCIETY),
            (K.TALENT, K.ORGANIZATION),
            (K.SOCIETY, K.ORGANIZATION),
            (K.ORGANIZATION, K.ORGANIZATION),
        }
    ),
    RelType.ADVISES: frozenset({(K.TALENT, K.ENTERPRISE)}),
    RelType.HOSTS: frozenset(
        (s, t) for s in (K.ENTERPRISE, K.PARK, K.ORGANIZATION, K.REGION) for t in (K.PROGRAM, K.ENTERPRISE)
    ),
    RelType.LOCATED_IN: frozenset(
        (s, t) for s in (K.ENTERPRISE, K.PARK, K.ORGANIZATION, K.PROGRAM) for t in (K.REGION, K.PARK)
    ),
    RelType.OPERATES_IN: frozenset({(K.ENTERPRISE, K.INDUSTRY)}),
    RelType.FOCUSES_ON: frozenset({(K.PARK, K.INDUSTRY), (K.PROGRAM, K.INDUSTRY)}),
    RelType.PART_OF: frozenset({(K.INDUSTRY, K.INDUSTRY), (K.REGION, K.REGION), (K.PROGRAM, K.PROGRAM)}),
    RelType.EXPERT_IN: frozenset({(K.SOCIETY, K.INDUSTRY)}),
}
"""Which (source kind, target kind) pairs each relationship type may join; all others are refused."""

ACYCLIC_TYPES: frozenset[RelType] = frozenset({RelType.PART_OF})
"""Relationship types that form a hierarchy: no self-loops, no cycles."""

ID_PREFIX: dict[NodeKind, str] = {kind: kind.value.lower() for kind in NodeKind}
"""The id prefix of each kind: ``society:cmes`` is a Society."""
_KIND_BY_PREFIX = {prefix: kind for kind, prefix in ID_PREFIX.items()}

_ID_RE = re.compile(r"^[a-z]+:[^\s:][^\s]{0,199}\Z")


def alive(fact: object, as_of: str | None) -> bool:
    """Whether a node or relationship existed at ``as_of`` (a partial date; ``None`` means now).

    A fact with no start date is taken to have always existed; an end date counts
    to the end of its period (``until='2023'`` holds through 31 December 2023).
    """
    if as_of is None:
        return True
    return in_period(getattr(fact, "since", None), getattr(fact, "until", None), as_of)


def in_period(since: str | None, until: str | None, as_of: str) -> bool:
    """Whether the date ``as_of`` falls within ``since``–``until`` (partial dates, either open)."""
    if since is not None and since[: len(as_of)] > as_of:
        return False
    return not (until is not None and as_of[: len(until)] > until)


def starts_within(since: str | None, start: str | None, end: str | None) -> bool:
    """Whether a start date falls from ``start`` up to ``end``, both included (``None``: open
    on that side), each pair of dates compared at their common precision: ``2021-05`` is
    within ``2021``–``2021``, and ``2021`` within ``2021-09``–``2021-12``."""
    if since is None:
        return False
    if start is not None and since[: len(start)] < start[: len(since)]:
        return False
    return end is None or since[: len(end)] <= end[: len(since)]


def check_pair(rel_type: RelType, source: NodeKind, target: NodeKind) -> None:
    """Refuse a relationship whose endpoint kinds the ontology does not allow.

    Raises:
        InvalidRequest: naming the pair and the pairs that are allowed.
    """
    if (source, target) not in ALLOWED_PAIRS[rel_type]:
        allowed = ", ".join(sorted(f"{s}→{t}" for s, t in ALLOWED_PAIRS[rel_type]))
        raise InvalidRequest(f"{rel_type} cannot join {source} → {target}; allowed: {allowed}")


def kind_of_id(node_id: str) -> NodeKind:
    """The kind a node id names by its prefix.

    Raises:
        InvalidRequest: when the id is malformed or its prefix names no kind.
    """
    if not isinstance(node_id, str):
        raise InvalidRequest(f"an id must be text, not {type(node_id).__name__}")
    return _kind_of_id(node_id)


@lru_cache(maxsize=1 << 17)
def _kind_of_id(node_id: str) -> NodeKind:
    """Cached: loads ask about the same ids again and again."""
    if not _ID_RE.match(node_id):
        raise InvalidRequest(
            f"malformed id {node_id[:250]!r}: expected 'kind:key' such as 'society:cmes', "
            "with no spaces, at most 200 characters"
        )
    prefix = node_id.split(":", 1)[0]
    kind = _KIND_BY_PREFIX.get(prefix)
    if kind is None:
        raise InvalidRequest(
            f"id {node_id[:250]!r} starts with unknown kind {prefix[:50]!r}; "
            f"known: {', '.join(sorted(_KIND_BY_PREFIX))}"
        )
    return kind


def normalize_name(text: str) -> str:
    """Fold a name for matching: NFKC (full-width to half-width), case-folded, spaces squeezed.

    >>> normalize_name("ＣＭＥＳ  Society") == normalize_name("cmes society")
    True
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = folded.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(folded.split())


def make_id(kind: NodeKind, *key_parts: str) -> str:
    """A stable id from a kind and a natural key (a code, an adcode or a name).

    The key is NFKC-normalised and lower-cased, invisible characters (soft hyphens,
    zero-width spaces and joiners, bidi controls) are dropped, and runs of characters
    other than letters and digits (in any script) become one hyphen, so every visible
    spelling of a name gives the same id.

    >>> make_id(NodeKind.INDUSTRY, "gbt4754", "C38")
    'industry:gbt4754:c38'
    >>> make_id(NodeKind.SOCIETY, "Chinese Mechanical Engineering Society")
    'society:chinese-mechanical-engineering-society'
    """
    parts = []
    for part in key_parts:
        visible = part if part.isascii() else "".join(ch for ch in part if unicodedata.category(ch) != "Cf")
        slug = re.sub(r"[\W_]+", "-", normalize_name(visible)).strip("-")
        if not slug:
            raise InvalidRequest(f"cannot make an id for a {kind} from {part!r}")
        parts.append(slug)
    if not parts:
        raise InvalidRequest(f"cannot make an id for a {kind} without a key")
    return ":".join([ID_PREFIX[kind], *parts])[:200]


# ---------------------------------------------------------------------------
# value types


def _text_rule(value: object) -> object:
    """:func:`graph_service.core.text.clean_text` on text as it comes in: before pydantic's own check
    of a string, which refuses a lone surrogate without saying which character it is."""
    if not isinstance(value, str) or value.isprintable():  # the common case, no control or format character
        return value
    return clean_text(value)


Name = Annotated[  # a before-validator given last runs first, then the constrained string's own checks
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME),
    BeforeValidator(_text_rule),
]
"""A name, alias, key or code: no control characters but tab and line feed (:func:`graph_service.core.text.clean_text`)."""
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT), BeforeValidator(_text_rule)
]
"""Free text (description, evidence, role …), under the same rule as names."""


PartialDate = Annotated[str, AfterValidator(partial_date)]
"""A date as precise as the source is: ``2021``, ``2021-05`` or ``2021-05-31``, in ASCII digits
(full-width ones are read as such), in the calendar (see :func:`graph_service.core.text.partial_date`)."""


class Provenance(BaseModel):
    """Where a fact comes from: the source document, the clause that says it, and how it is known."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Name = Field(description="Key of the source document in the dataset manifest.")
    evidence: Text = Field(default="", description="The clause of the source that supports the fact.")
    basis: Basis = Field(description="stated, inferred, reference or synthetic.")


class _Fact(BaseModel):
    """What nodes and relationships share: provenance and a validity period."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    provenance: Provenance
    since: PartialDate | None = Field(
        default=None, description="When the fact started (signing, founding, launch)."
    )
    until: PartialDate | None = Field(default=None, description="When the fact ended, if it did.")


class Node(_Fact):
    """A named entity. Subclasses add the properties of one kind."""

    kind: ClassVar[NodeKind]
    private_fields: ClassVar[frozenset[str]] = frozenset()

    id: str = Field(description="Stable id 'kind:key', reproduced by every re-load.")
    name: Name = Field(description="English name, or the Chinese name when no English one is known.")
    name_zh: Name | None = Field(default=None, description="Chinese name.")
    aliases: tuple[Name, ...] = Field(default=(), description="Other names and abbreviations.")
    description: Text = ""

    @field_validator("id", mode="before")  # before pydantic's string check, to name a lone surrogate
    @classmethod
    def _id_matches_kind(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        value = canonical_id(value)
        try:
            kind = kind_of_id(value)
        except InvalidRequest as exc:  # pydantic reports ValueErrors, with the field they belong to
            raise ValueError(exc.message) from None
        if kind is not cls.kind:
            raise ValueError(f"id {value!r} does not start with '{ID_PREFIX[cls.kind]}:'")
        return value

    def names(self) -> list[str]:
        """Every name the node answers to: English, Chinese and aliases."""
        out = [self.name]
        if self.name_zh:
            out.append(self.name_zh)
        out.extend(self.aliases)
        return out

    def to_props(self) -> dict[str, Any]:
        """A flat map of primitives (str, int, float, bool, list of str) for storage."""
        props: dict[str, Any] = {}
        for key, value in self.model_dump(exclude={"provenance"}, mode="json").items():
            if value is None or value == () or value == []:
                continue
            if isinstance(value, dict):
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            props[key] = value
        props["source"] = self.provenance.source
        props["evidence"] = self.provenance.evidence
        props["basis"] = self.provenance.basis.value
        props["kind"] = self.kind.value
        return props

    def public_view(self) -> dict[str, Any]:
        """Properties fit for an anonymous reader: private fields removed."""
        return {k: v for k, v in self.to_props().items() if k not in self.private_fields}


class Society(Node):
    """A learned society: national member societies of CAST, provincial and city societies."""

    kind: ClassVar[NodeKind] = NodeKind.SOCIETY
    discipline: Text | None = Field(default=None, description="Discipline group or field.")
    level: Literal["national", "provincial", "city"] = "national"
    cast_code: Name | None = Field(default=None, description="Code in CAST's member list.")


class Talent(Node):
    """A person: academician, expert, doctor. Contact details are private."""

    kind: ClassVar[NodeKind] = NodeKind.TALENT
    private_fields: ClassVar[frozenset[str]] = frozenset({"email", "phone"})
    title: Text | None = Field(default=None, description="academician, expert, doctor …")
    field: Text | None = Field(default=None, description="Field of expertise.")
    email: Text | None = Field(default=None, description="Private: shown only to key holders.")
    phone: Text | None = Field(default=None, description="Private: shown only to key holders.")


class Enterprise(Node):
    """A company."""

    kind: ClassVar[NodeKind] = NodeKind.ENTERPRISE
    uscc: Annotated[str, StringConstraints(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")] | None = Field(
        default=None, description="Unified social credit code (18 characters), when known."
    )


class Park(Node):
    """A place that gathers companies: incubator, park, town, center, base, zone."""

    kind: ClassVar[NodeKind] = NodeKind.PARK
    park_kind: Literal["incubator", "park", "town", "center", "base", "zone"] = "park"
    level: Text | None = Field(default=None, description="national, provincial, city …")
    companies: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Number of resident companies, as reported."
    )


class Industry(Node):
    """An industry, in a taxonomy (GB/T 4754-2017, a city's priority list, or the source's own words)."""

    kind: ClassVar[NodeKind] = NodeKind.INDUSTRY
    taxonomy: Name = Field(description="gbt4754, wenzhou-5+5, local …")
    code: Name | None = Field(default=None, description="Code within the taxonomy.")
    level: Literal["section", "division", "group", "class", "cluster", "industry"] = "industry"
    group: Text | None = Field(default=None, description="Grouping within a priority list.")


class Agreement(Node):
    """A cooperation agreement; its start is ``since`` (the signing date)."""

    kind: ClassVar[NodeKind] = NodeKind.AGREEMENT
    agreement_kind: Literal["strategic_cooperation", "cooperation", "framework", "other"] = (
        "strategic_cooperation"
    )


class Region(Node):
    """An administrative division, keyed by its six-digit adcode."""

    kind: ClassVar[NodeKind] = NodeKind.REGION
    adcode: Annotated[str, StringConstraints(pattern=r"^\d{6}$")] | None = None
    division_type: Text | None = None


class Organization(Node):
    """An organisation that is not a society: CAST, a city association, a university, a government."""

    kind: ClassVar[NodeKind] = NodeKind.ORGANIZATION
    org_kind: Literal["association", "university", "government", "hospital", "institute", "fund", "other"] = (
        "other"
    )


ProgramKind = Literal[
    "plan",
    "brand",
    "pilot",
    "summit",
    "expert_panel",
    "service_group",
    "service_base",
    "innovation_base",
    "academician_workstation",
    "expert_workstation",
    "doctoral_station",
    "visit",
    "production_base",
    "other",
]
"""What a program is. ``production_base`` is a national production-base title held by a place
(中国电器之都, 中国鞋都 …): it LOCATED_IN its region, FOCUSES_ON its industry, and counts as demand."""


class Program(Node):
    """An activity with a purpose: a plan, an expert panel, a workstation, a summit, a pilot."""

    kind: ClassVar[NodeKind] = NodeKind.PROGRAM
    program_kind: ProgramKind = "other"
    participants: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Number of people or bodies taking part, as reported."
    )
    targets: dict[Name, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict,
        description="Numeric targets of a plan, keyed by the program kind they count "
        "(for example {'doctoral_station': 100}).",
    )

    @field_validator("targets", mode="before")
    @classmethod
    def _parse_targets(cls, value: object) -> object:
        if isinstance(value, str):
            return _parse_targets(value)
        return value


NODE_MODELS: dict[NodeKind, type[Node]] = {
    model.kind: model
    for model in (
        Society,
        Talent,
        Enterprise,
        Park,
        Industry,
        Agreement,
        Region,
        Organization,
        Program,
    )
}
"""The model class of each kind."""

PRIVATE_FIELDS: dict[NodeKind, frozenset[str]] = {k: m.private_fields for k, m in NODE_MODELS.items()}


class Relationship(_Fact):
    """A typed, directed relationship between two nodes; (source, type, target) is its identity."""

    source: str = Field(description="Id of the node it starts from.")
    type: RelType
    target: str = Field(description="Id of the node it points to.")
    role: Text = Field(default="", description="Free text qualifying the relationship.")

    @field_validator("source", "target", mode="before")  # as Node's id
    @classmethod
    def _valid_id(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        value = canonical_id(value)
        try:
            kind_of_id(value)
        except InvalidRequest as exc:
            raise ValueError(exc.message) from None
        return value

    def model_post_init(self, context: Any, /) -> None:
        """Refuse pairs the ontology does not allow and self-loops in hierarchies."""
        check_pair(self.type, kind_of_id(self.source), kind_of_id(self.target))
        if self.type in ACYCLIC_TYPES and self.source == self.target:
            raise InvalidRequest(f"{self.type} cannot join {self.source} to itself")

    @property
    def key(self) -> tuple[str, str, str]:
        """The identity of the relationship: (source, type, target)."""
        return (self.source, self.type.value, self.target)

    def to_props(self) -> dict[str, Any]:
        """The relationship's own properties as a flat map (endpoints and type excluded)."""
        props: dict[str, Any] = {
            "source": self.provenance.source,
            "evidence": self.provenance.evidence,
            "basis": self.provenance.basis.value,
        }
        if self.role:
            props["role"] = self.role
        if self.since:
            props["since"] = self.since
        if self.until:
            props["until"] = self.until
        return props


class _EveryField(frozenset[str]):
    """The fields-set that assembled models share: immutable, so sharing it is safe; its copy
    (which ``model_copy`` makes before adding the fields it updates) is an ordinary set."""

    def __copy__(self) -> set[str]:
        return set(self)


_ALL_RELATIONSHIP_FIELDS = _EveryField(Relationship.model_fields)


def assemble_relationship(
    source: str,
    rel_type: RelType,
    target: str,
    provenance: Provenance,
    role: str = "",
    since: str | None = None,
    until: str | None = None,
    fields_set: Set[str] = _ALL_RELATIONSHIP_FIELDS,
) -> Relationship:
    """A relationship from values that were each checked already, without checking them again.

    For bulk paths (loaders, snapshots) that check each distinct value, kind pair and
    provenance once: the result equals ``Relationship(...)`` on the same values (pydantic
    compares fields, not how the object was made). ``fields_set`` is what pydantic reports
    as explicitly given; the default, shared by all, says every field was.
    """
    rel = Relationship.__new__(Relationship)
    _set = object.__setattr__
    _set(
        rel,
        "__dict__",
        {  # the model's field order, as validation leaves it
            "provenance": provenance,
            "since": since,
            "until": until,
            "source": source,
            "type": rel_type,
            "target": target,
            "role": role,
        },
    )
    _set(rel, "__pydantic_fields_set__", fields_set)
    _set(rel, "__pydantic_extra__", None)
    _set(rel, "__pydantic_private__", None)
    return rel


RelationshipFacts = tuple[Provenance, str, str | None, str | None]
"""What a relationship holds beside its ends and type: provenance, role ("" when none), since, until."""

_GIVEN: dict[tuple[bool, bool, bool], frozenset[str]] = {
    (role, since, until): frozenset(
        ("source", "type", "target", "provenance")
        + (("role",) if role else ())
        + (("since",) if since else ())
        + (("until",) if until else ())
    )
    for role in (False, True)
    for since in (False, True)
    for until in (False, True)
}


def _assembled(source: str, rel_type: RelType, target: str, facts: RelationshipFacts) -> Relationship:
    provenance, role, since, until = facts
    given = _GIVEN[(role != "", since is not None, until is not None)]
    return assemble_relationship(source, rel_type, target, provenance, role, since, until, fields_set=given)


class RelationshipColumns(Sequence[Relationship]):
    """Relationships kept as four parallel columns (sources, types, targets, facts), each built when read.

    For bulk writes of values that were each checked already (see :func:`assemble_relationship`):
    a loader checks a city's million relationships a column at a time and hands them on in
    this form, so that a store that takes columns (the embedded one) writes them without a
    model object per relationship, while any other reads them one by one as ordinary
    relationships. Item ``i`` equals ``Relationship(source=sources[i], type=types[i],
    target=targets[i], provenance=..., role=..., since=..., until=...)`` with role, since and
    until given when set; a slice is again columns. Equal facts may be one shared tuple.
    """

    __slots__ = ("facts", "sources", "targets", "types")

    def __init__(
        self,
        sources: list[str],
        types: list[RelType],
        targets: list[str],
        facts: list[RelationshipFacts],
    ) -> None:
        if not len(sources) == len(types) == len(targets) == len(facts):
            raise ValueError("relationship columns of different lengths")
        self.sources = sources
        self.types = types
        self.targets = targets
        self.facts = facts

    def __len__(self) -> int:
        return len(self.sources)

    @overload
    def __getitem__(self, index: int) -> Relationship: ...

    @overload
    def __getitem__(self, index: slice) -> RelationshipColumns: ...

    def __getitem__(self, index: int | slice) -> Relationship | RelationshipColumns:
        if isinstance(index, slice):
            return RelationshipColumns(
                self.sources[index], self.types[index], self.targets[index], self.facts[index]
            )
        return _assembled(self.sources[index], self.types[index], self.targets[index], self.facts[index])

    def __iter__(self) -> Iterator[Relationship]:
        return map(_assembled, self.sources, self.types, self.targets, self.facts)

    def __repr__(self) -> str:
        return f"RelationshipColumns({len(self)} relationships)"


_AnyNode = TypeVar("_AnyNode", bound=Node)


def assemble_nodes(model: type[_AnyNode], columns: Sequence[list[Any]]) -> list[_AnyNode]:
    """Nodes of one model from already-checked values, without checking them again.

    For bulk paths (the snapshot reader) that check a column of values at a time:
    ``columns`` holds one list per field of ``model``, in the model's field order, all
    of one length. The i-th node equals ``model(**{field: column[i] ...})`` and counts
    every field as given. A column that holds one value throughout is put in once, and
    the loops over nodes run in C (``map``), which makes this several times faster
    than building each node's dict in Python.
    """
    names = list(model.model_fields)
    if len(columns) != len(names):
        raise ValueError(f"{model.__name__} has {len(names)} fields, not {len(columns)}")
    size = len(columns[0]) if columns else 0
    template: dict[str, Any] = {}
    varying: list[tuple[str, list[Any]]] = []
    for name, column in zip(names, columns, strict=True):
        if len(column) != size:
            raise ValueError(f"the {name} column has {len(column)} values, not {size}")
        same = size > 0 and column.count(column[0]) == size and shareable(column[0])
        template[name] = column[0] if same else None  # the model's field order, as validation leaves it
        if not same:
            varying.append((name, column))
    rows = list(map(dict.copy, repeat(template, size)))
    for name, column in varying:
        _consume(map(operator.setitem, rows, repeat(name), column))
    nodes: list[_AnyNode] = list(map(model.__new__, repeat(model, size)))
    _set = object.__setattr__
    _consume(map(_set, nodes, repeat("__dict__"), rows))
    _consume(map(_set, nodes, repeat("__pydantic_fields_set__"), repeat(_EveryField(names))))
    _consume(map(_set, nodes, repeat("__pydantic_extra__"), repeat(None)))
    _consume(map(_set, nodes, repeat("__pydantic_private__"), repeat(None)))
    return nodes


def shareable(value: object) -> bool:
    """Whether one value may be shared by every node (a dict may not: each node gets its own)."""
    if type(value) is tuple:
        return all(shareable(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def _consume(iterator: Iterator[object]) -> None:
    deque(iterator, maxlen=0)


_VALIDATORS = {
    "before": BeforeValidator,
    "after": AfterValidator,
    "wrap": WrapValidator,
    "plain": PlainValidator,
}


@cache
def column_adapter(kind: NodeKind, name: str) -> TypeAdapter[list[Any]]:
    """A validator of a list of one field's values that checks each as the kind's model checks
    the field: its type, its constraints and the model's validators of that field. For bulk
    paths that check a column of values in one call."""
    model = NODE_MODELS[kind]
    info = model.model_fields[name]
    own = [
        _VALIDATORS[d.info.mode](d.func)
        for d in model.__pydantic_decorators__.field_validators.values()
        if name in d.info.fields or "*" in d.info.fields
    ]
    extras = (*info.metadata, *own)
    item: Any = Annotated[(info.annotation, *extras)] if extras else info.annotation
    adapter: TypeAdapter[list[Any]] = TypeAdapter(list[item], config=model.model_config)
    return adapter


def ids_of_kind(kind: NodeKind, ids: list[Any]) -> bool:
    """Whether every value is an id of this kind that the models' id check accepts unchanged: in
    ASCII, already canonical (:func:`graph_service.core.text.canonical_id`) and well formed (see
    :func:`kind_of_id`), checked by one regular expression over all of them joined by line breaks.
    ``False`` says only that some id needs the model's own check, which may accept it changed."""
    try:
        whole = "\n".join(ids)
    except TypeError:
        return False
    if whole.count("\n") != len(ids) - 1:  # a line break inside an id would pass for two ids
        return not ids
    return _id_column_pattern(kind).fullmatch(whole) is not None


@cache
def _id_column_pattern(kind: NodeKind) -> re.Pattern[str]:
    one = re.escape(ID_PREFIX[kind]) + rf":(?!:){CANONICAL_ASCII}{{1,200}}"
    return re.compile(rf"{one}(?:\n{one})*")


@lru_cache(maxsize=1 << 14)
def provenance(source: str, evidence: str, basis: str) -> Provenance:
    """A (shared, immutable) provenance: big graphs repeat a few thousand of them millions of times."""
    return Provenance.model_validate({"source": source, "evidence": evidence, "basis": basis})


def node_from_props(props: Mapping[str, Any]) -> Node:
    """Rebuild a node from the flat map a store keeps (the inverse of :meth:`Node.to_props`)."""
    data = dict(props)
    kind = NodeKind(data.pop("kind"))
    data["provenance"] = _provenance_of(data)
    if "aliases" in data:
        data["aliases"] = tuple(data["aliases"])
    return NODE_MODELS[kind].model_validate(data)


def relationship_from_props(
    source: str, rel_type: str, target: str, props: Mapping[str, Any]
) -> Relationship:
    """Rebuild a relationship from its endpoints, type and stored properties."""
    data = dict(props)
    return Relationship(
        source=source, type=RelType(rel_type), target=target, provenance=_provenance_of(data), **data
    )


def _provenance_of(data: dict[str, Any]) -> Provenance:
    """Pop the provenance keys of a stored property map and return the provenance they make."""
    source, evidence, basis = data.pop("source"), data.pop("evidence", ""), data.pop("basis")
    if not all(isinstance(v, str) for v in (source, evidence, basis)):
        raise InvalidRequest("source, evidence and basis must be text")
    return provenance(source, evidence, basis)


def _parse_targets(text: str) -> dict[str, int] | str:
    """Read targets written as JSON or as ``key=value; key=value``."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"targets are not valid JSON: {exc.msg}") from None
        if not isinstance(parsed, dict):
            raise ValueError("targets must be a JSON object")
        return parsed
    out: dict[str, Any] = {}
    for item in re.split(r"[;；]", text):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"target {item.strip()!r} is not 'name=number'")
        out[key.strip()] = value.strip()
    return out
