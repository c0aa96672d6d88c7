"""The words of the views and pages in English and Chinese: kinds, relationships, channels, statuses, UI.

Names of entities come from the data; :func:`pick_name` chooses the planner's language
and falls back to the other one. Everything else a page says is looked up here, so
the two languages stay side by side and a missing Chinese phrase shows up in review.

Example:
    >>> pick_name("Electrical equipment", "电气", "zh")
    '电气'
    >>> kind_label("Society", "zh")
    '学会'
"""

from __future__ import annotations

from typing import Literal

from graph_service.ontology import Basis, NodeKind, RelType

__all__ = [
    "BASIS_LABELS",
    "CHANNEL_LABELS",
    "KIND_LABELS",
    "LANGS",
    "REL_LABELS",
    "STATUS_LABELS",
    "SUPPORT_LABELS",
    "UI",
    "Lang",
    "basis_label",
    "channel_label",
    "check_lang",
    "kind_label",
    "pick_name",
    "rel_label",
    "status_label",
    "support_label",
    "t",
]

Lang = Literal["en", "zh"]
"""A language of the views: English or (simplified) Chinese."""
LANGS: tuple[Lang, ...] = ("en", "zh")

KIND_LABELS: dict[str, tuple[str, str]] = {
    NodeKind.SOCIETY: ("Society", "学会"),
    NodeKind.TALENT: ("Talent", "人才"),
    NodeKind.ENTERPRISE: ("Enterprise", "企业"),
    NodeKind.PARK: ("Park or incubator", "园区与孵化器"),
    NodeKind.INDUSTRY: ("Industry", "产业"),
    NodeKind.AGREEMENT: ("Agreement", "合作协议"),
    NodeKind.REGION: ("Region", "地区"),
    NodeKind.ORGANIZATION: ("Organization", "机构"),
    NodeKind.PROGRAM: ("Program", "项目与平台"),
}
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
CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    "direct": ("Direct service", "直接服务"),
    "agreement": ("Through agreements", "通过合作协议"),
    "program": ("Through programs", "通过项目与平台"),
    "talent": ("Through member talents", "通过会员人才"),
}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "uncovered": ("uncovered", "空白"),
    "thin": ("thin", "薄弱"),
    "covered": ("covered", "已覆盖"),
}
BASIS_LABELS: dict[str, tuple[str, str]] = {
    Basis.STATED: ("stated by the source", "来源明确陈述"),
    Basis.INFERRED: ("inferred by the curator", "整理者推断"),
    Basis.REFERENCE: ("reference list", "参考名录"),
    Basis.SYNTHETIC: ("synthetic (benchmark data)", "合成数据（测试用）"),
}
SUPPORT_LABELS: dict[str, tuple[str, str]] = {
    "society_agreement": ("Society agreements", "学会合作协议"),
    "expert_panel_or_service_group": ("Expert panels & service groups", "专家团与服务团"),
    "workstation": ("Workstations", "院士专家工作站"),
    "doctoral_station": ("Doctoral stations", "博士创新站"),
    "incubator_or_park": ("Incubators & parks", "孵化器与园区"),
    "talent": ("Talents", "人才"),
}

UI: dict[str, tuple[str, str]] = {
    # views
    "search": ("Find", "查找"),
    "search_placeholder": ("Type a name…", "输入名称…"),
    "no_match": ("No entity in this view matches", "本图中没有匹配的对象"),
    "kinds": ("Show kinds", "显示类型"),
    "types": ("Show relationships", "显示关系"),
    "legend": ("Legend", "图例"),
    "keep_one": (
        "At least one entity stays on the graph: this filter would hide everything.",
        "至少保留一个对象：该筛选会隐藏全部内容。",
    ),
    "pinned_note": ("The centre of the view is always shown.", "视图中心始终显示。"),
    "api_link": ("The same data from the API", "通过 API 获取相同数据"),
    "details": ("Details", "详情"),
    "details_hint": (
        "Click a node or a line to read its properties and evidence.",
        "点击节点或连线查看属性与证据。",
    ),
    "open_page": ("Open its page", "打开详情页"),
    "recentre": ("Centre the view here", "以此为中心"),
    "depth": ("Depth", "层级"),
    "depth_minus": ("One degree less", "减少一层"),
    "depth_plus": ("One degree more", "增加一层"),
    "depth_max": ("deepest allowed", "已达最大层级"),
    "fit": ("Fit to screen", "适应窗口"),
    "nodes": ("entities", "个对象"),
    "edges": ("relationships", "条关系"),
    "truncated": (
        "Only the first {limit} entities are drawn: the neighbourhood is larger. Filter it or lower the depth.",
        "邻域较大，仅绘制前 {limit} 个对象。请筛选或降低层级。",
    ),
    "aggregated": (
        "This graph has {nodes} entities and {edges} relationships, more than the {threshold} "
        "drawn one by one, so it is shown aggregated by kind: one circle per kind (sized by its count), "
        "one line per pair of kinds (labelled with the number of relationships). "
        "Open an entity's page to see its own neighbourhood.",
        "该图共有 {nodes} 个对象、{edges} 条关系，超过逐个绘制的上限 {threshold}，"
        "因此按类型聚合显示：每种类型一个圆（大小表示数量），每对类型之间一条线（标注关系数量）。"
        "打开对象详情页可查看其邻域。",
    ),
    "empty": ("Nothing to draw: the answer is empty.", "没有可绘制的内容：结果为空。"),
    "evidence": ("Evidence", "证据"),
    "source": ("Source", "来源"),
    "basis": ("Basis", "依据"),
    "since": ("since", "自"),
    "until": ("until", "至"),
    "kind": ("Kind", "类型"),
    "id": ("Id", "编号"),
    "count": ("Count", "数量"),
    "status": ("Status", "状态"),
    "demand": ("Demand", "需求"),
    "societies": ("Societies", "学会"),
    "channel": ("Channel", "渠道"),
    "industry": ("Industry", "产业"),
    "relationships_by_type": ("Relationships by type", "按类型统计的关系"),
    "more_lines": ("… and {n} more", "……另有 {n} 条"),
    "big_note": (
        "A large view: relationships are drawn as plain lines; click an entity to read its relationships "
        "and their evidence.",
        "大型视图：关系以细线绘制；点击对象可查看其关系及证据。",
    ),
    "layout_note": (
        "The layout is computed from the data, so the same data always gives the same picture.",
        "布局由数据计算得出，相同数据总是得到相同图形。",
    ),
    "loading": ("Drawing…", "绘制中…"),
    "no_script": ("This view needs JavaScript to draw the graph.", "此视图需要启用 JavaScript 才能绘制。"),
    # view titles
    "ego_title": ("Around {name}", "{name} 的关系网络"),
    "ego_subtitle": ("Entities within {depth} degree(s) of {name}", "与 {name} 相距 {depth} 层以内的对象"),
    "coverage_title": ("Who serves {name}", "谁在服务 {name}"),
    "coverage_subtitle": (
        "Societies serving it: {count}, grouped by the channel they serve through",
        "服务该产业的学会：{count} 个，按服务渠道分组",
    ),
    "gaps_title": ("Gap map", "空白地图"),
    "gaps_subtitle": (
        "Industries coloured by coverage, sized by demand; lines join the societies serving them",
        "产业按覆盖状态着色，按需求大小缩放；连线为服务该产业的学会",
    ),
    "matrix_title": ("Coverage matrix", "覆盖矩阵"),
    "matrix_subtitle": ("Industries × kinds of support", "产业 × 支持类型"),
    "path_title": ("From {source} to {target}", "从 {source} 到 {target}"),
    "path_subtitle": ("{count} shortest chain(s), each told as a sentence", "{count} 条最短关系链"),
    "no_path": ("No chain joins them within {hops} hops.", "在 {hops} 步以内没有关系链相连。"),
    "overview_title": ("The whole ecosystem", "创新生态全景"),
    "overview_subtitle": ("Every entity, grouped by kind", "全部对象，按类型分组"),
    "overview_aggregated": (
        "{nodes} entities and {edges} relationships, aggregated by kind",
        "{nodes} 个对象、{edges} 条关系，按类型聚合",
    ),
    "status_uncovered": ("Industry: uncovered", "产业：空白"),
    "status_thin": ("Industry: thin", "产业：薄弱"),
    "status_covered": ("Industry: covered", "产业：已覆盖"),
    "kind_group": ("Kind (aggregated)", "类型（聚合）"),
    "matrix_table": ("Counts of support", "支持数量"),
    "scope": ("Scope", "范围"),
    "chains": ("Chains", "关系链"),
    "serving_any": ("serves (by any channel)", "服务（任一渠道）"),
    "group_member_of": ("{count} member {kinds}", "{count} 个会员{kinds}"),
    "group_in": ("{count} {kinds} that {verb} it", "{count} 个{verb}它的{kinds}"),
    "group_out": ("{count} {kinds} it {verb}", "它{verb}的 {count} 个{kinds}"),
    "group_hint": (
        "A group: {count} entities joined to {hub} the same way, folded into one so that they do"
        " not hide the other ties. {separate} of them drawn on their own. Click to show {shown}"
        " of them; click again to fold.",
        "分组：{count} 个以同样方式与 {hub} 相连的对象折叠为一个节点，以免淹没其他关系。其中 {separate} 个已单独显示。"
        "点击展开其中 {shown} 个，再次点击折叠。",
    ),
    "plural_Society": ("societies", "学会"),
    "plural_Talent": ("talents", "人才"),
    "plural_Enterprise": ("enterprises", "企业"),
    "plural_Park": ("parks or incubators", "园区与孵化器"),
    "plural_Industry": ("industries", "产业"),
    "plural_Agreement": ("agreements", "合作协议"),
    "plural_Region": ("regions", "地区"),
    "plural_Organization": ("organizations", "机构"),
    "plural_Program": ("programs", "项目与平台"),
    "path_subtitle_ranked": (
        "{count} chain(s), best first: stated facts and specific links before hubs",
        "{count} 条关系链，按可信与具体程度排序：明确陈述、经过具体节点的在前，经过枢纽的在后",
    ),
    "score": ("score", "得分"),
}


def check_lang(lang: str) -> Lang:
    """The language code, checked.

    Raises:
        ValueError: when it is neither ``en`` nor ``zh``.
    """
    if lang == "en":
        return "en"
    if lang == "zh":
        return "zh"
    raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")


def pick_name(name: str, name_zh: str | None, lang: Lang) -> str:
    """The name to show in a language, falling back to the other one."""
    if lang == "zh" and name_zh:
        return name_zh
    return name or (name_zh or "")


def t(key: str, lang: Lang, **values: object) -> str:
    """A UI phrase in a language, with ``{placeholders}`` filled (values are not escaped here).

    Raises:
        KeyError: for an unknown phrase key.
    """
    text = UI[key][1 if lang == "zh" else 0]
    return text.format(**values) if values else text


def _pick(labels: tuple[str, str], lang: Lang) -> str:
    return labels[1 if lang == "zh" else 0]


def kind_label(kind: NodeKind | str, lang: Lang) -> str:
    """The name of a node kind in a language."""
    labels = KIND_LABELS.get(kind)  # a StrEnum member hashes and compares as its value
    return _pick(labels, lang) if labels else str(kind)


def rel_label(rel_type: RelType | str, lang: Lang) -> str:
    """The verb of a relationship type in a language."""
    labels = REL_LABELS.get(rel_type)
    return _pick(labels, lang) if labels else str(rel_type)


def channel_label(channel: str, lang: Lang) -> str:
    """The name of a serving channel in a language."""
    return _pick(CHANNEL_LABELS[channel], lang) if channel in CHANNEL_LABELS else channel


def status_label(status: str, lang: Lang) -> str:
    """The name of a coverage status in a language."""
    return _pick(STATUS_LABELS[status], lang) if status in STATUS_LABELS else status


def basis_label(basis: Basis | str, lang: Lang) -> str:
    """How a fact is known, in a language."""
    labels = BASIS_LABELS.get(basis)
    return _pick(labels, lang) if labels else str(basis)


def support_label(support: str, lang: Lang) -> str:
    """The name of a kind of support (a coverage-matrix column) in a language."""
    return _pick(SUPPORT_LABELS[support], lang) if support in SUPPORT_LABELS else support
