"""The words of a relationship in English and Chinese, and a chain of relationships read aloud.

The query catalog explains its paths in sentences (:func:`chain_sentence`); the phrase book of
the views (:mod:`visualizations.i18n`) re-uses these verbs, so each is written once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from graph_service.core.ontology import RelType

__all__ = ["REL_LABELS", "REL_PASSIVE_LABELS", "Lang", "chain_sentence", "pick", "rel_phrase"]

Lang = Literal["en", "zh"]
"""A language of the views: English or (simplified) Chinese."""

REL_LABELS: dict[str, tuple[str, str]] = {
    RelType.SERVES: ("serves", "服务"),
    RelType.PARTY_TO: ("is party to", "签署"),
    RelType.COVERS: ("covers", "涵盖"),
    RelType.PARTICIPATES_IN: ("takes part in", "参与"),
    RelType.MEMBER_OF: ("is a member of", "隶属于"),
    RelType.ADVISES: ("advises", "指导"),
    RelType.HOSTS: ("hosts", "设立"),
    RelType.LOCATED_IN: ("is located in", "位于"),
    RelType.OPERATES_IN: ("operates in", "从事"),
    RelType.FOCUSES_ON: ("focuses on", "聚焦"),
    RelType.PART_OF: ("is part of", "属于"),
    RelType.EXPERT_IN: ("has expertise in", "专业领域涵盖"),
}
REL_PASSIVE_LABELS: dict[str, tuple[str, str]] = {
    RelType.SERVES: ("is served by", "接受服务自"),
    RelType.PARTY_TO: ("is signed by", "签署方为"),
    RelType.COVERS: ("is covered by", "被涵盖于"),
    RelType.PARTICIPATES_IN: ("has as participant", "参与者为"),
    RelType.MEMBER_OF: ("has as member", "成员为"),
    RelType.ADVISES: ("is advised by", "接受指导自"),
    RelType.HOSTS: ("is hosted by", "设立方为"),
    RelType.LOCATED_IN: ("is the location of", "所在地包括"),
    RelType.OPERATES_IN: ("has as enterprise", "从业企业为"),
    RelType.FOCUSES_ON: ("is the focus of", "聚焦方为"),
    RelType.PART_OF: ("includes", "包括"),
    RelType.EXPERT_IN: ("is a field of", "属于其专业领域"),
}
"""The verb of a relationship read from its target: "B is served by A"."""


def pick(labels: tuple[str, str], lang: Lang) -> str:
    """The English or the Chinese of a pair of labels."""
    return labels[1 if lang == "zh" else 0]


def rel_phrase(rel_type: RelType | str, forward: bool, lang: Lang) -> str:
    """The verb of a relationship read from its source (forward) or from its target."""
    labels = (REL_LABELS if forward else REL_PASSIVE_LABELS).get(rel_type)
    return pick(labels, lang) if labels else str(rel_type)


def chain_sentence(names: Sequence[str], steps: Sequence[tuple[RelType | str, bool]], lang: Lang) -> str:
    """A chain of relationships read aloud: the names of its entities, and between each two the
    type of the relationship joining them and whether it points forward (from the earlier
    name to the later one).

    English reads each verb in the chain's direction; Chinese writes the verb on an arrow
    that points as the relationship does, so the sentence keeps Chinese word order:

        >>> steps = [(RelType.MEMBER_OF, True), (RelType.PARTY_TO, False)]
        >>> chain_sentence(["Wang", "CMES", "Agreement"], steps, "en")
        'Wang — is a member of — CMES — is signed by — Agreement'
        >>> chain_sentence(["王", "机械学会", "协议"], [(RelType.MEMBER_OF, True), (RelType.PARTY_TO, True)], "zh")
        '王 —隶属于→ 机械学会 —签署→ 协议'
    """
    links = _LINKS_ZH if lang == "zh" else _LINKS_EN  # many answers hold thousands of chains
    words = [names[0]]
    for step, name in zip(steps, names[1:], strict=True):
        link = links.get(step)
        words.append(link if link is not None else f" — {step[0]} — ")
        words.append(name)
    return "".join(words)


_LINKS_EN: dict[tuple[RelType | str, bool], str] = {
    (rel_type, forward): f" — {pick(labels[rel_type], 'en')} — "
    for forward, labels in ((True, REL_LABELS), (False, REL_PASSIVE_LABELS))
    for rel_type in RelType
}
_LINKS_ZH: dict[tuple[RelType | str, bool], str] = {
    (rel_type, forward): f" —{pick(REL_LABELS[rel_type], 'zh')}→ "
    if forward
    else f" ←{pick(REL_LABELS[rel_type], 'zh')}— "
    for forward in (True, False)
    for rel_type in RelType
}
