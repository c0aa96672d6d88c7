"""A seeded generator of synthetic, national-scale ecosystems, written as a normal dataset directory.

Everything it writes is marked ``basis=synthetic`` so it can never pass for real
facts. The same scale and seed give byte-identical files. The graph is skewed the
way real ecosystems are: a few industries, regions and parks hold most enterprises
(Zipf-like weights), a few societies serve many industries, talents belong to one
to three societies.

Example:
    >>> generate_dataset(Path("/tmp/eco-s"), scale="S", seed=1)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from graph_service.core.ontology import NodeKind
from loaders.manifest import FILE_STEMS
from loaders.records import RELATIONSHIP_COLUMNS, kind_columns

__all__ = ["SCALES", "Scale", "generate_dataset"]

Scale = Literal["XS", "S", "M", "L"]
SCALES: dict[str, int] = {"XS": 300, "S": 3_000, "M": 30_000, "L": 300_000}
"""Enterprises per scale; relationships come to about 3.3 per enterprise
(XS ≈ 2.5k, S ≈ 11k, M ≈ 100k, L ≈ 1M)."""
SOURCE = "synthetic"
_SURNAMES = [
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Huang",
    "Zhao",
    "Wu",
    "Zhou",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Gao",
    "Lin",
    "Luo",
]
_GIVEN = [
    "Wei",
    "Fang",
    "Min",
    "Jing",
    "Lei",
    "Jun",
    "Yan",
    "Tao",
    "Ming",
    "Chao",
    "Hua",
    "Ping",
    "Gang",
    "Hui",
    "Xin",
    "Yu",
    "Bo",
    "Ning",
    "Kai",
    "Qiang",
]


@dataclass
class _Counts:
    enterprises: int
    talents: int
    parks: int
    programs: int
    agreements: int
    industries: int
    cities: int
    counties: int
    organizations: int
    societies: int = 210


def generate_dataset(out: Path, *, scale: Scale = "S", seed: int = 1) -> dict[str, int]:
    """Write a synthetic dataset directory; returns the number of rows written per file.

    Args:
        out: the directory to write (created; existing files of the same names are replaced).
        scale: XS, S, M or L.
        seed: the random seed; the same seed gives the same files.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}")
    n = SCALES[scale]
    c = _Counts(
        enterprises=n,
        talents=max(20, n // 10),
        parks=max(10, n // 100),
        programs=max(20, n // 30),
        agreements=max(10, n // 60),
        industries=min(3000, 120 + n // 250),
        cities=min(340, 10 + n // 1000),
        counties=min(2900, 30 + n // 100),
        organizations=max(20, n // 1000),
    )
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    rels: list[list[str]] = []

    def rel(src: str, rel_type: str, dst: str) -> None:
        rels.append([src, rel_type, dst])

    # industries: sections → divisions → the rest, as a hierarchy
    sections = [f"industry:syn:s{i:02d}" for i in range(20)]
    divisions = [f"industry:syn:d{i:03d}" for i in range(min(100, c.industries // 2))]
    leaves = [f"industry:syn:i{i:04d}" for i in range(c.industries - len(sections) - len(divisions))]
    industry_rows = []
    for level, ids in (("section", sections), ("division", divisions), ("class", leaves)):
        for i, node_id in enumerate(ids):
            industry_rows.append(
                {
                    "id": node_id,
                    "name": f"Synthetic {level} {i}",
                    "taxonomy": "syn",
                    "code": node_id.rsplit(":", 1)[1],
                    "level": level,
                }
            )
    for d in divisions:
        rel(d, "PART_OF", rng.choice(sections))
    for leaf in leaves:
        rel(leaf, "PART_OF", rng.choice(divisions))
    industry_weights = _zipf(len(leaves), 1.1, rng)

    # regions: a country's provinces, cities, counties
    provinces = [f"region:{11 + i:02d}0000" for i in range(31)]
    cities = [f"region:{11 + i % 31:02d}{1 + i // 31:02d}00" for i in range(c.cities)]
    counties = [
        f"region:{cities[i % len(cities)].split(':')[1][:4]}{1 + i // len(cities):02d}"
        for i in range(c.counties)
    ]
    region_rows = [
        {"id": r, "name": f"Region {r.split(':')[1]}", "adcode": r.split(":")[1]}
        for r in provinces + cities + counties
    ]
    for city in cities:
        rel(city, "PART_OF", f"region:{city.split(':')[1][:2]}0000")
    for county in counties:
        rel(county, "PART_OF", f"region:{county.split(':')[1][:4]}00")
    county_weights = _zipf(len(counties), 1.0, rng)

    organizations = [f"organization:syn-{i}" for i in range(c.organizations)]
    org_rows = [
        {
            "id": o,
            "name": f"Organization {i}",
            "org_kind": rng.choice(["association", "university", "institute"]),
        }
        for i, o in enumerate(organizations)
    ]
    societies = [f"society:syn-{i:03d}" for i in range(c.societies)]
    society_rows = [
        {
            "id": s,
            "name": f"National Society {i}",
            "name_zh": f"全国学会{i}",
            "discipline": rng.choice(
                ["science (理科)", "engineering (工科)", "agriculture (农科)", "medicine (医科)"]
            ),
        }
        for i, s in enumerate(societies)
    ]
    for s in societies:
        rel(s, "MEMBER_OF", organizations[0])
    society_weights = _zipf(len(societies), 1.2, rng)
    for s, weight in zip(societies, society_weights, strict=True):  # a few societies serve many industries
        for target in set(rng.choices(leaves, weights=industry_weights, k=1 + int(weight * 60))):
            rel(s, "SERVES", target)

    parks = [f"park:syn-{i}" for i in range(c.parks)]
    park_rows = [
        {"id": p, "name": f"Park {i}", "park_kind": rng.choice(["incubator", "park", "zone", "base"])}
        for i, p in enumerate(parks)
    ]
    for p in parks:
        rel(p, "LOCATED_IN", rng.choices(counties, weights=county_weights)[0])
        for target in set(rng.choices(leaves, weights=industry_weights, k=2)):
            rel(p, "FOCUSES_ON", target)
    park_weights = _zipf(len(parks), 1.3, rng)

    enterprise_rows = []
    for i in range(c.enterprises):
        e = f"enterprise:syn-{i}"
        enterprise_rows.append({"id": e, "name": f"Enterprise {i} Co., Ltd."})
        for target in set(rng.choices(leaves, weights=industry_weights, k=rng.choice((1, 1, 2)))):
            rel(e, "OPERATES_IN", target)
        if rng.random() < 0.3:
            rel(e, "LOCATED_IN", rng.choices(parks, weights=park_weights)[0])
        else:
            rel(e, "LOCATED_IN", rng.choices(counties, weights=county_weights)[0])
    enterprises = [r["id"] for r in enterprise_rows]

    talent_rows = []
    for i in range(c.talents):
        t = f"talent:syn-{i}"
        talent_rows.append(
            {
                "id": t,
                "name": f"{rng.choice(_SURNAMES)} {rng.choice(_GIVEN)} {i}",
                "title": rng.choice(["academician", "expert", "doctor"]),
            }
        )
        for s in set(rng.choices(societies, weights=society_weights, k=rng.choice((1, 1, 2, 3)))):
            rel(t, "MEMBER_OF", s)
        for e in set(rng.choices(enterprises, k=rng.choice((1, 2, 3)))):
            rel(t, "ADVISES", e)
        if rng.random() < 0.3:
            rel(t, "SERVES", rng.choices(leaves, weights=industry_weights)[0])

    kinds = [
        "expert_panel",
        "service_group",
        "academician_workstation",
        "expert_workstation",
        "doctoral_station",
    ]
    program_rows = [
        {
            "id": "program:syn-plan",
            "name": "Synthetic three-year plan",
            "program_kind": "plan",
            "since": "2021",
            "until": "2023",
            "targets": "academician_workstation=50; doctoral_station=100",
        }
    ]
    for i in range(c.programs):
        p = f"program:syn-{i}"
        year = 2018 + i % 6
        program_rows.append(
            {"id": p, "name": f"Program {i}", "program_kind": kinds[i % len(kinds)], "since": str(year)}
        )
        for target in set(rng.choices(leaves, weights=industry_weights, k=2)):
            rel(p, "SERVES", target)
        for s in set(rng.choices(societies, weights=society_weights, k=3)):
            rel(s, "PARTICIPATES_IN", p)
        rel(p, "LOCATED_IN", rng.choices(counties, weights=county_weights)[0])
        if i % 10 == 0:
            rel(p, "PART_OF", "program:syn-plan")

    agreement_rows = []
    for i in range(c.agreements):
        a = f"agreement:syn-{i}"
        agreement_rows.append(
            {"id": a, "name": f"Cooperation agreement {i}", "since": f"{2018 + i % 6}-{1 + i % 12:02d}"}
        )
        rel(rng.choices(societies, weights=society_weights)[0], "PARTY_TO", a)
        rel(rng.choice(cities), "PARTY_TO", a)
        for target in set(rng.choices(leaves, weights=industry_weights, k=2)):
            rel(a, "COVERS", target)

    tables = {
        NodeKind.SOCIETY: society_rows, NodeKind.TALENT: talent_rows, NodeKind.ENTERPRISE: enterprise_rows,
        NodeKind.PARK: park_rows, NodeKind.INDUSTRY: industry_rows, NodeKind.AGREEMENT: agreement_rows,
        NodeKind.REGION: region_rows, NodeKind.ORGANIZATION: org_rows, NodeKind.PROGRAM: program_rows,
    }  # fmt: skip
    for kind, rows in tables.items():
        columns = kind_columns(kind)
        _write(
            out / f"{FILE_STEMS[kind]}.csv",
            columns,
            ([row.get(col, _provenance(col)) for col in columns] for row in rows),
        )
        written[FILE_STEMS[kind]] = len(rows)
    unique = [list(r) for r in dict.fromkeys(tuple(r) for r in rels)]
    _write(
        out / "relationships.csv",
        RELATIONSHIP_COLUMNS,
        ([r[0], r[1], r[2], *(_provenance(col) for col in RELATIONSHIP_COLUMNS[3:])] for r in unique),
    )
    written["relationships"] = len(unique)
    (out / "dataset.toml").write_text(
        f'name = "synthetic-{scale.lower()}-{seed}"\n'
        f'title = "Synthetic ecosystem, scale {scale}, seed {seed}"\n'
        'description = "Generated by innograph for benchmarks; every fact is synthetic."\n\n'
        f"[sources.{SOURCE}]\n"
        'title = "innograph synthetic generator"\n',
        encoding="utf-8",
    )
    return written


def _provenance(column: str) -> str:
    return {"source": SOURCE, "basis": "synthetic"}.get(column, "")


def _zipf(n: int, exponent: float, rng: random.Random) -> list[float]:
    """Zipf-like weights over ``n`` items in a shuffled order (so the heavy ones are spread out)."""
    weights = [1.0 / (rank**exponent) for rank in range(1, n + 1)]
    rng.shuffle(weights)
    return weights


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
