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

import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from graph_service.core.ontology import Basis, NodeKind, RelType
from queries.words import REL_LABELS, REL_PASSIVE_LABELS, Lang, chain_sentence, pick, rel_phrase

__all__ = [
    "BASIS_LABELS",
    "CHANNEL_LABELS",
    "ERRORS",
    "ERROR_HEADINGS",
    "KIND_LABELS",
    "LANGS",
    "PAGE",
    "PROPERTY_LABELS",
    "REL_LABELS",
    "REL_PASSIVE_LABELS",
    "STATUS_LABELS",
    "SUPPORT_LABELS",
    "TAXONOMY_LABELS",
    "UI",
    "VALIDATION",
    "VALUE_LABELS",
    "Lang",
    "basis_label",
    "chain_sentence",
    "channel_label",
    "check_lang",
    "error_heading",
    "error_message",
    "kind_label",
    "lang_from_accept",
    "page_text",
    "pick_name",
    "pinyin_name",
    "property_label",
    "rel_label",
    "rel_phrase",
    "status_label",
    "support_label",
    "t",
    "taxonomy_label",
    "validation_problem",
    "value_label",
]

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

PROPERTY_LABELS: dict[str, tuple[str, str]] = {
    "discipline": ("Discipline", "学科"),
    "level": ("Level", "层级"),
    "cast_code": ("CAST code", "中国科协编号"),
    "title": ("Title", "称号"),
    "field": ("Field", "领域"),
    "email": ("Email", "电子邮箱"),
    "phone": ("Phone", "电话"),
    "uscc": ("Unified social credit code", "统一社会信用代码"),
    "park_kind": ("Kind of park", "园区类型"),
    "companies": ("Resident companies", "入驻企业数"),
    "taxonomy": ("Taxonomy", "分类"),
    "code": ("Code", "代码"),
    "group": ("Group", "分组"),
    "agreement_kind": ("Kind of agreement", "协议类型"),
    "adcode": ("Administrative code", "行政区划代码"),
    "division_type": ("Kind of division", "行政区划类型"),
    "org_kind": ("Kind of organization", "机构类型"),
    "program_kind": ("Kind of program", "项目类型"),
    "participants": ("Participants", "参与数量"),
    "targets": ("Targets", "目标"),
    "since": ("Since", "起始"),
    "until": ("Until", "截止"),
    "role": ("Role", "角色"),
}
"""The names of the properties an entity page lists."""
VALUE_LABELS: dict[str, tuple[str, str]] = {
    # levels
    "national": ("national", "全国"),
    "provincial": ("provincial", "省级"),
    "city": ("city", "市级"),
    "section": ("section", "门类"),
    "division": ("division", "大类"),
    "group": ("group", "中类"),
    "class": ("class", "小类"),
    "cluster": ("cluster", "产业集群"),
    "industry": ("industry", "产业"),
    "emerging": ("emerging", "新兴产业"),
    "traditional": ("traditional", "传统产业"),
    # titles of talents
    "academician": ("academician", "院士"),
    "professor": ("professor", "教授"),
    "researcher": ("researcher", "研究员"),
    "doctor": ("doctor", "博士"),
    "expert": ("expert", "专家"),
    "engineer": ("engineer", "工程师"),
    # kinds of park
    "incubator": ("incubator", "孵化器"),
    "park": ("park", "园区"),
    "town": ("town", "小镇"),
    "center": ("center", "中心"),
    "base": ("base", "基地"),
    "zone": ("zone", "功能区"),
    # kinds of agreement
    "strategic_cooperation": ("strategic cooperation", "战略合作"),
    "cooperation": ("cooperation", "合作"),
    "framework": ("framework", "框架协议"),
    # kinds of organization
    "association": ("association", "协会"),
    "university": ("university", "高校"),
    "government": ("government", "政府部门"),
    "hospital": ("hospital", "医院"),
    "institute": ("institute", "研究院所"),
    "fund": ("fund", "基金"),
    # kinds of program
    "plan": ("plan", "规划"),
    "brand": ("brand", "品牌"),
    "pilot": ("pilot", "试点"),
    "summit": ("summit", "峰会"),
    "expert_panel": ("expert panel", "专家团"),
    "service_group": ("service group", "服务团"),
    "service_base": ("service base", "服务基地"),
    "innovation_base": ("innovation base", "创新基地"),
    "academician_workstation": ("academician workstation", "院士工作站"),
    "expert_workstation": ("expert workstation", "专家工作站"),
    "doctoral_station": ("doctoral innovation station", "博士创新站"),
    "visit": ("visit", "考察活动"),
    "production_base": ("national production base", "国家级生产基地"),
    "other": ("other", "其他"),
    # kinds of administrative division
    "province": ("province", "省"),
    "prefecture-level city": ("prefecture-level city", "地级市"),
    "district": ("district", "市辖区"),
    "county": ("county", "县"),
    "county-level city": ("county-level city", "县级市"),
}
"""The words of the values a property takes from a fixed list (levels, kinds, titles)."""
TAXONOMY_LABELS: dict[str, tuple[str, str]] = {
    "gbt4754": ("GB/T 4754-2017 industry classification", "GB/T 4754-2017 国民经济行业分类"),
    "wenzhou-5+5": ("Wenzhou 5+5 priority industries", "温州“5+5”重点产业"),
    "local": ("Local industries", "地方产业"),
}
"""The names of the industry taxonomies; a taxonomy missing here is shown by its code."""

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

PAGE: dict[str, tuple[str, str]] = {
    "app": ("innograph", "innograph 创新图谱"),
    "tagline": (
        "Who serves which industry, on what evidence — and where nobody does",
        "谁在服务哪个产业、依据是什么——以及哪些产业无人覆盖",
    ),
    "home": ("Home", "首页"),
    "gaps": ("Gaps", "空白分析"),
    "path": ("Connections", "关系路径"),
    "overview": ("Whole graph", "全景图"),
    "api_docs": ("API", "API 文档"),
    "search": ("Search", "搜索"),
    "search_placeholder": (
        "A society, industry, enterprise… (English, 中文, pinyin)",
        "学会、产业、企业……（中文、英文或拼音）",
    ),
    "priority": ("Priority industries", "重点产业"),
    "priority_note": (
        "Coverage of the industries in the taxonomy “{taxonomy}”: uncovered (no society serves it), "
        "thin (fewer than {thin} societies), covered.",
        "分类“{taxonomy}”中各产业的覆盖情况：空白（无学会服务）、薄弱（少于 {thin} 个学会）、已覆盖。",
    ),
    "no_industries": ("No industry belongs to the taxonomy “{taxonomy}”.", "分类“{taxonomy}”下没有产业。"),
    "taxonomies": ("Taxonomies in the graph", "图谱中的分类"),
    "counts": ("What the graph holds", "图谱内容"),
    "relationships": ("Relationships", "关系"),
    "entities": ("entities", "个对象"),
    "societies_n": ("{n} societies", "{n} 个学会"),
    "societies_1": ("{n} society", "{n} 个学会"),
    "relationships_lower": ("relationships", "条关系"),
    "demand_n": ("demand {n}", "需求 {n}"),
    "industry": ("Industry", "产业"),
    "status": ("Status", "状态"),
    "societies": ("Societies", "学会"),
    "demand": ("Demand", "需求"),
    "talents": ("Talents", "人才"),
    "agreements": ("Agreements", "协议"),
    "severity": ("Severity", "严重程度"),
    "enterprises": ("Enterprises", "企业"),
    "parks": ("Parks", "园区"),
    "programs": ("Programs", "项目"),
    "production_bases": ("National titles", "国家级产业基地称号"),
    "approach": ("Whom to approach", "建议对接"),
    "severity_note": (
        "Most severe first: (1 + demand) ÷ (1 + supply). Demand weighs enterprises 1, parks 2, programs 1, "
        "national production-base titles 5 and a priority list 5; supply weighs each serving society by its "
        "strongest channel (direct or agreement 1, program 0.75, talent 0.5) and each talent 0.25.",
        "按严重程度从高到低：(1 + 需求) ÷ (1 + 供给)。需求中企业计 1、园区计 2、项目计 1、国家级产业基地称号计 5、"
        "列入重点产业计 5；供给中每个服务学会按其最强渠道计分（直接服务或合作协议 1、项目与平台 0.75、会员人才 0.5），"
        "每位人才计 0.25。",
    ),
    "data_quality": ("Data quality", "数据质量"),
    "agreements_covering_nothing": (
        "Agreements tied to no industry yet: they count in no answer until a curator says what they cover.",
        "尚未对应任何产业的合作协议：在整理者标明其涵盖的产业之前，它们不计入任何结果。",
    ),
    "full_gaps": ("The full gap analysis", "完整空白分析"),
    "open_overview": ("See the whole graph", "查看全景图"),
    "results_for": ("Results for “{q}”", "“{q}”的搜索结果"),
    "no_results": ("Nothing matches “{q}”.", "没有与“{q}”匹配的结果。"),
    "properties": ("Properties", "属性"),
    "evidence": ("Evidence", "证据"),
    "source": ("Source", "来源"),
    "basis": ("Basis", "依据"),
    "clause": ("Clause", "原文"),
    "since": ("Since", "起始"),
    "until": ("Until", "截止"),
    "neighbourhood": ("Neighbourhood", "关系网络"),
    "open_full": ("Open full screen", "全屏打开"),
    "relationships_of": ("Relationships ({shown} of {total})", "关系（{total} 条中的 {shown} 条）"),
    "other": ("With", "对象"),
    "serves_industries": ("Industries it serves", "服务的产业"),
    "who_serves": ("Who serves this industry", "谁在服务该产业"),
    "industry_page": ("Industry page: who serves it", "产业页面：谁在服务"),
    "entity_page": ("Its properties and relationships", "属性与关系"),
    "by_channel": ("Societies by channel", "按渠道划分的学会"),
    "none_channel": ("No society serves it through this channel.", "没有学会通过此渠道服务该产业。"),
    "nobody": ("No society serves this industry yet.", "目前没有学会服务该产业。"),
    "recommendations": ("Societies worth approaching", "建议对接的学会"),
    "no_recommendations": (
        "No recommendation: no related industry or matching discipline found.",
        "暂无建议：未找到相关产业或匹配学科。",
    ),
    "score": ("score", "得分"),
    "coverage_view": ("Coverage", "覆盖图"),
    "include_subs": ("Include sub-industries", "包含子产业"),
    "apply": ("Apply", "应用"),
    "taxonomy": ("Taxonomy", "分类"),
    "thin_below": ("Thin below", "薄弱阈值"),
    "download_csv": ("Download CSV", "下载 CSV"),
    "gap_map": ("Gap map", "空白地图"),
    "matrix": ("Coverage matrix", "覆盖矩阵"),
    "summary": ("Summary", "概况"),
    "from": ("From", "起点"),
    "to": ("To", "终点"),
    "find_path": ("Find the chains", "查找关系链"),
    "path_intro": (
        "Pick two entities (type to search: English, Chinese, pinyin or an id) to see how they are connected.",
        "选择两个对象（输入中文、英文、拼音或编号搜索），查看它们之间的关系链。",
    ),
    "chains": ("Chains", "关系链"),
    "no_chain": ("No chain joins them within {hops} hops.", "在 {hops} 步以内没有关系链。"),
    "hops": ("Most hops", "最多步数"),
    "how_many": ("How many chains", "关系链数量"),
    "not_found": ("Not found", "未找到"),
    "bad_request": ("Something in the request is not right", "请求有误"),
    "error": ("Something went wrong", "出现错误"),
    "did_you_mean": ("Did you mean", "您是否要找"),
    "try_search": ("Search instead", "改为搜索"),
    "back_home": ("Back to the home page", "返回首页"),
    "api_same": ("The same data from the API", "通过 API 获取相同数据"),
    "language": ("中文", "English"),
    "kind": ("Kind", "类型"),
    "id": ("Id", "编号"),
    "description": ("Description", "说明"),
    "aliases": ("Also known as", "别名"),
    "reasons": ("Reasons", "理由"),
    "truncated_list": ("Showing the first {n}.", "仅显示前 {n} 项。"),
    "source_language_note": (
        "Evidence and descriptions are quoted as the source wrote them.",
        "证据与说明照录来源原文，保留原文语言。",
    ),
}
"""The words of the planners' pages (``graph_service/app/web.py`` and its templates)."""


ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), zh)
    for pattern, zh in (
        (r"no (?P<what>[\w ]+) matches (?P<ref>.+)", "没有与 {ref} 匹配的{what}"),
        (
            r"(?P<ref>.+) names several (?P<what>[\w ]+) entries: (?P<ids>.+); use the id",
            "{ref} 对应多个{what}：{ids}；请改用编号",
        ),
        (r"give an id or a name", "请给出编号或名称"),
        (r"no such page or route", "没有这个页面或接口"),
        (r"no such page", "没有这个页面"),
        (
            r"unknown query parameter\(s\): (?P<unknown>.+); this route takes: (?P<known>.+)",
            "未知的查询参数：{unknown}；此接口接受的参数：{known}",
        ),
        (r"the search text is empty", "搜索内容为空"),
        (r"the search text is over (?P<n>\d+) characters", "搜索内容超过 {n} 个字符"),
        (
            r"(?P<name>\w+) must be between (?P<low>[\d.]+) and (?P<high>[\d.]+)",
            "{name} 必须在 {low} 到 {high} 之间",
        ),
        (r"(?P<name>\w+) must be at least (?P<low>[\d.]+)", "{name} 至少为 {low}"),
        (r"source and target are the same entity", "起点与终点是同一个对象"),
        (
            r"describe the scope: a taxonomy, a level, a region or a list of industries",
            "请说明范围：分类、层级、地区或产业列表",
        ),
        (
            r"the scope holds over (?P<n>[\d,]+) industries; narrow it with a taxonomy or level",
            "范围内的产业超过 {n} 个；请用分类或层级缩小范围",
        ),
        (
            r"(?P<id>\S+) has no numeric targets; choose a program of kind 'plan' with targets",
            "{id} 没有数值目标；请选择带有目标的规划类项目",
        ),
        (r"the end date is before the start date", "结束日期早于开始日期"),
        (
            r"the graph has (?P<n>[\d,]+) relationships, over the (?P<m>[\d,]+) that whole-graph "
            r"analytics project; filter by type",
            "图谱共有 {n} 条关系，超过全图分析可处理的 {m} 条；请按关系类型筛选",
        ),
        (
            r"malformed id (?P<id>.+): expected 'kind:key' such as 'society:cmes', with no spaces, "
            r"at most 200 characters",
            "编号 {id} 格式有误：应为“类型:键”的形式（如 society:cmes），不含空格，最多 200 个字符",
        ),
        (
            r"id (?P<id>.+) starts with unknown kind (?P<prefix>.+); known: (?P<known>.+)",
            "编号 {id} 的类型 {prefix} 未知；已知类型：{known}",
        ),
        (r"an id must be text, not (?P<type>\w+)", "编号必须是文本，而不是 {type}"),
        (r"the (?P<view>\w+) view needs an entity", "{view} 视图需要指定一个对象"),
        (r"the path view needs a target", "路径视图需要指定终点"),
        (r"unknown view (?P<view>.+); views are (?P<known>.+)", "未知视图 {view}；可用视图：{known}"),
        (
            r"the question took longer than (?P<s>[\d.]+) s; narrow it \(a smaller depth, scope or limit\)",
            "查询用时超过 {s} 秒；请缩小问题（减小层级、范围或数量上限）",
        ),
        (r"missing or wrong X-API-Key header", "缺少 X-API-Key 请求头，或密钥不正确"),
        (r"the upload is over the limit of (?P<n>[\d,]+) bytes", "上传内容超过 {n} 字节的上限"),
        (r"the server met an unexpected problem; it has been logged", "服务器遇到意外问题，已记入日志"),
        (r"the server met an unexpected problem", "服务器遇到意外问题"),
        (
            r"(?P<n>\d+) problem\(s\) in the dataset; nothing was written:(?P<rows>.*)",
            "数据集中有 {n} 处问题，未写入任何内容：{rows}",
        ),
        (r"(?P<value>.+) is not a date in the calendar", "{value} 不是日历上的日期"),
    )
)
"""API and page error messages: the English message (always made by the code that raises the
error) matched whole, and its Chinese wording. A value in braces is carried over; the words
for kinds of entity (``industry``, ``society`` …) are translated."""
ERROR_HEADINGS: dict[str, tuple[str, str]] = {
    "NotFound": ("Not found", "未找到"),
    "InvalidRequest": ("Something in the request is not right", "请求有误"),
    "DataError": ("The dataset has problems", "数据集有问题"),
    "Conflict": ("The change contradicts the graph", "更改与图谱内容冲突"),
    "Unauthorized": ("Not allowed", "无权操作"),
    "PayloadTooLarge": ("Too large", "内容过大"),
    "BackendUnavailable": ("The graph cannot answer now", "图谱暂时无法回答"),
    "HTTPError": ("Something in the request is not right", "请求有误"),
    "InternalError": ("Something went wrong", "出现错误"),
}
"""What kind of problem an error is, said in a few words; a message with no wording in
:data:`ERRORS` is shown in Chinese as this heading followed by the English original."""
VALIDATION: dict[str, tuple[str, str]] = {
    "missing": ("{where}: Field required", "缺少参数 {where}"),
    "int_parsing": ("{where}: Input should be a valid integer", "{where} 应为整数"),
    "int_from_float": ("{where}: Input should be a valid integer", "{where} 应为整数"),
    "float_parsing": ("{where}: Input should be a valid number", "{where} 应为数字"),
    "bool_parsing": ("{where}: Input should be a valid boolean", "{where} 应为 true 或 false"),
    "greater_than_equal": (
        "{where}: Input should be greater than or equal to {ge}",
        "{where} 应大于或等于 {ge}",
    ),
    "greater_than": ("{where}: Input should be greater than {gt}", "{where} 应大于 {gt}"),
    "less_than_equal": ("{where}: Input should be less than or equal to {le}", "{where} 应小于或等于 {le}"),
    "less_than": ("{where}: Input should be less than {lt}", "{where} 应小于 {lt}"),
    "literal_error": ("{where}: Input should be {expected}", "{where} 应为 {expected}"),
    "enum": ("{where}: Input should be {expected}", "{where} 应为以下之一：{expected}"),
    "string_too_short": (
        "{where}: String should have at least {min_length} character(s)",
        "{where} 至少需要 {min_length} 个字符",
    ),
    "string_too_long": (
        "{where}: String should have at most {max_length} character(s)",
        "{where} 最多 {max_length} 个字符",
    ),
    "string_pattern_mismatch": (
        "{where}: String should match pattern '{pattern}'",
        "{where} 的格式不对（应符合 {pattern}，如日期 2021、2021-09 或 2021-09-30）",
    ),
}
"""Chinese wordings of the request-validation problems FastAPI reports, by pydantic error type;
the English one is pydantic's own message."""


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
    """The name to show in a language, falling back to the other one.

    In English, a name with no Latin letter (an entity with no published English name)
    is shown in pinyin, with the Chinese name and a note saying so:

        >>> pick_name("中国数学会", "中国数学会", "en")
        'Zhongguo Shuxue Hui (中国数学会; no published English name)'
    """
    if lang == "zh" and name_zh:
        return name_zh
    shown = name or (name_zh or "")
    if lang == "en" and _HAN.search(shown) and not _LATIN.search(shown):
        return f"{pinyin_name(shown)} ({shown}; no published English name)"
    return shown


@lru_cache(maxsize=65536)
def pinyin_name(text: str) -> str:
    """A Chinese name in pinyin, a capitalised word per word of the name as far as the
    dictionary knows it, characters it does not know run together (``Zhongguo Shuxue Hui``).
    Characters other than Han ones are kept (full-width forms made plain)."""
    from pypinyin import lazy_pinyin  # large dictionaries: loaded when a name first needs them
    from pypinyin.seg.mmseg import seg

    words: list[str] = []
    run = ""
    for piece in [*seg.cut(text), ""]:
        if len(piece) == 1 and _HAN.match(piece):
            run += piece  # a character the dictionary has no word for: keep it with its neighbours
            continue
        if run:
            words.append("".join(lazy_pinyin(run)).capitalize())
            run = ""
        if piece and _HAN.search(piece):
            words.append("".join(lazy_pinyin(piece)).capitalize())
        elif piece.strip():
            words.append(unicodedata.normalize("NFKC", piece.strip()).replace("、", ","))
    spoken = " ".join(words)
    return re.sub(r"\s+([,.;:)\]])", r"\1", re.sub(r"([(\[])\s+", r"\1", spoken))


def t(key: str, lang: Lang, **values: object) -> str:
    """A UI phrase in a language, with ``{placeholders}`` filled (values are not escaped here).

    Raises:
        KeyError: for an unknown phrase key.
    """
    text = UI[key][1 if lang == "zh" else 0]
    return text.format(**values) if values else text


def kind_label(kind: NodeKind | str, lang: Lang) -> str:
    """The name of a node kind in a language."""
    labels = KIND_LABELS.get(kind)  # a StrEnum member hashes and compares as its value
    return pick(labels, lang) if labels else str(kind)


def rel_label(rel_type: RelType | str, lang: Lang) -> str:
    """The verb of a relationship type in a language."""
    labels = REL_LABELS.get(rel_type)
    return pick(labels, lang) if labels else str(rel_type)


def channel_label(channel: str, lang: Lang) -> str:
    """The name of a serving channel in a language."""
    return pick(CHANNEL_LABELS[channel], lang) if channel in CHANNEL_LABELS else channel


def status_label(status: str, lang: Lang) -> str:
    """The name of a coverage status in a language."""
    return pick(STATUS_LABELS[status], lang) if status in STATUS_LABELS else status


def basis_label(basis: Basis | str, lang: Lang) -> str:
    """How a fact is known, in a language."""
    labels = BASIS_LABELS.get(basis)
    return pick(labels, lang) if labels else str(basis)


def support_label(support: str, lang: Lang) -> str:
    """The name of a kind of support (a coverage-matrix column) in a language."""
    return pick(SUPPORT_LABELS[support], lang) if support in SUPPORT_LABELS else support


def page_text(lang: Lang) -> Callable[..., str]:
    """The phrases of the pages in a language: ``say("key", n=3)``."""
    index = 1 if lang == "zh" else 0

    def say(key: str, **values: object) -> str:
        words = PAGE[key][index]
        return words.format(**values) if values else words

    return say


def property_label(key: str, lang: Lang) -> str:
    """The name of an entity's property in a language (its key when the phrase book has none)."""
    return pick(PROPERTY_LABELS[key], lang) if key in PROPERTY_LABELS else key


def value_label(value: str, lang: Lang) -> str:
    """A property's value in a language, when it is one of a fixed list (a level, a kind, a
    title); any other value as it is."""
    return pick(VALUE_LABELS[value], lang) if value in VALUE_LABELS else value


def taxonomy_label(taxonomy: str, lang: Lang) -> str:
    """The name of an industry taxonomy in a language (its code when the phrase book has none)."""
    return pick(TAXONOMY_LABELS[taxonomy], lang) if taxonomy in TAXONOMY_LABELS else taxonomy


def error_message(message: str, lang: Lang, kind: str = "InvalidRequest") -> str:
    """An error message in a language. Errors are raised with an English message; in Chinese
    its wording from :data:`ERRORS`, or, for a message without one, the heading of its kind
    followed by the English original."""
    if lang == "en":
        return message
    for pattern, zh in ERRORS:
        found = pattern.fullmatch(message)
        if found:
            return zh.format(**{k: _error_value(k, v or "") for k, v in found.groupdict().items()})
    heading = ERROR_HEADINGS.get(kind, ERROR_HEADINGS["InvalidRequest"])[1]
    return f"{heading}（英文原文：{message}）"


def error_heading(kind: str, lang: Lang) -> str:
    """What kind of problem an error is, in a language."""
    return pick(ERROR_HEADINGS.get(kind, ERROR_HEADINGS["InvalidRequest"]), lang)


def validation_problem(error: Mapping[str, Any], lang: Lang) -> str:
    """One problem of a request FastAPI refused (a pydantic error: ``loc``, ``type``, ``msg``,
    ``ctx``), named by its parameter, in a language."""
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
    kind = str(error.get("type", ""))
    context = {k: _context_value(v) for k, v in (error.get("ctx") or {}).items()}
    if lang == "zh" and kind in VALIDATION:
        try:
            return VALIDATION[kind][1].format(where=where or "请求", **context)
        except (KeyError, IndexError):
            pass
    if lang == "zh" and kind == "value_error" and "error" in context:
        return (
            f"{where}：{error_message(str(context['error']), lang)}"
            if where
            else error_message(str(context["error"]), lang)
        )
    message = str(error.get("msg", "invalid"))
    if lang == "zh":
        return f"{where or '请求'} 的值无效（英文原文：{message}）"
    return f"{where}: {message}" if where else message


def lang_from_accept(header: str | None) -> Lang:
    """The language an ``Accept-Language`` header prefers of the two, English when it names neither.

    >>> lang_from_accept("zh-CN,zh;q=0.9,en;q=0.8")
    'zh'
    """
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        if primary not in ("en", "zh"):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, position, check_lang(primary))
    return best[2] if best else "en"


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_WHAT_ZH: dict[str, str] = {"entity": "对象"} | {str(k).lower(): v[1] for k, v in KIND_LABELS.items()}


def _error_value(key: str, value: str) -> str:
    if key == "what":
        return _WHAT_ZH.get(value, value)
    return value


def _context_value(value: object) -> object:
    return str(value) if isinstance(value, Exception) else value
