"""The text rules (graph_service/core/text.py): dates, ids, names and free text, and that they are said once.

Each rule is checked where it is defined, through the ontology's models that every loader and
store builds, and through the command line as a planner types it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from graph_service.core.ontology import (
    Basis,
    NodeKind,
    Program,
    Provenance,
    Relationship,
    RelType,
    Society,
    make_id,
)
from graph_service.core.text import canonical_id, clean_text, partial_date

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "data" / "mini"
INNOGRAPH = Path(sys.executable).with_name("innograph")
PROV = Provenance(source="notes", basis=Basis.STATED)

# -- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("2021", "2021"),
        ("2021-09", "2021-09"),
        ("2021-09-30", "2021-09-30"),
        (" 2021-12 ", "2021-12"),
        ("２０２１", "2021"),  # full width, as Chinese input methods type it
        ("２０２１－０９－３０", "2021-09-30"),  # full-width dash too
        ("2021－09", "2021-09"),
        ("2020-02-29", "2020-02-29"),  # a leap day
        ("２０２０-０２-２９", "2020-02-29"),
    ],
)
def test_dates_in_ascii_or_full_width_digits_are_kept_in_ascii(written: str, stored: str) -> None:
    assert partial_date(written) == stored
    assert Society(id="society:x", name="X", provenance=PROV, since=written).since == stored
    rel = Relationship(
        source="society:x", type=RelType.SERVES, target="industry:y", provenance=PROV, until=written
    )
    assert rel.until == stored


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("٢٠٢١", "U+0662 (ARABIC-INDIC DIGIT TWO)"),
        ("۲۰۲۱", "U+06F2 (EXTENDED ARABIC-INDIC DIGIT TWO)"),
        ("२०२१", "U+0968 (DEVANAGARI DIGIT TWO)"),
        ("2021-০৯", "U+09E6 (BENGALI DIGIT ZERO)"),
        ("๒๐๒๑", "U+0E52 (THAI DIGIT TWO)"),
    ],
)
def test_digits_of_other_scripts_are_refused_by_name(written: str, named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)) as info:
        partial_date(written)
    assert "is a digit of another script; write dates in the digits 0-9" in str(info.value)
    with pytest.raises(ValidationError, match=re.escape(named)):
        Society(id="society:x", name="X", provenance=PROV, since=written)


@pytest.mark.parametrize("written", ["2021-02-30", "2021-02-29", "2021-04-31", "２０２１－０２－３０"])
def test_only_days_of_the_calendar_are_dates(written: str) -> None:
    with pytest.raises(ValueError, match="is not a date in the calendar"):
        partial_date(written)


@pytest.mark.parametrize(
    "written", ["", "21", "2021/05", "2021-5", "2021-13", "May 2021", "20210531", "2021-"]
)
def test_other_forms_are_refused_saying_the_forms(written: str) -> None:
    with pytest.raises(ValueError, match=r"is not a date; write 2021, 2021-05 or 2021-05-31"):
        partial_date(written)


# -- ids -----------------------------------------------------------------------------------------

SPELLINGS = ["society:abc", "Society:ABC", "SOCIETY:Abc", "society:ａｂｃ", "ｓｏｃｉｅｔｙ：ＡＢＣ"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_visible_spelling_of_an_id_is_one_id(spelling: str) -> None:
    assert canonical_id(spelling) == "society:abc"
    assert Society(id=spelling, name="ABC", provenance=PROV).id == "society:abc"
    rel = Relationship(source=spelling, type=RelType.SERVES, target="INDUSTRY:X", provenance=PROV)
    assert (rel.source, rel.target) == ("society:abc", "industry:x")


@pytest.mark.parametrize(
    ("character", "named"),
    [
        ("\u200b", "U+200B (ZERO WIDTH SPACE)"),
        ("\u200c", "U+200C (ZERO WIDTH NON-JOINER)"),
        ("\u200d", "U+200D (ZERO WIDTH JOINER)"),
        ("\u2060", "U+2060 (WORD JOINER)"),
        ("\ufeff", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
        ("\u00ad", "U+00AD (SOFT HYPHEN)"),
        ("\u202a", "U+202A (LEFT-TO-RIGHT EMBEDDING)"),
        ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("\u2066", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
        ("\u2069", "U+2069 (POP DIRECTIONAL ISOLATE)"),
        ("\u200e", "U+200E (LEFT-TO-RIGHT MARK)"),
        ("\u200f", "U+200F (RIGHT-TO-LEFT MARK)"),
        ("\x00", "U+0000 (NULL)"),
        ("\x1b", "U+001B (ESCAPE)"),
        ("\x7f", "U+007F (DELETE)"),
        ("\x85", "U+0085 (NEXT LINE)"),
    ],
)
def test_ids_refuse_control_and_invisible_characters_by_name(character: str, named: str) -> None:
    spelled = f"society:ab{character}c"
    with pytest.raises(ValueError, match=re.escape(named)) as info:
        canonical_id(spelled)
    assert "write it without that character" in str(info.value)
    with pytest.raises(ValidationError, match=re.escape(named)):
        Society(id=spelled, name="ABC", provenance=PROV)
    with pytest.raises(ValidationError, match=re.escape(named)):
        Relationship(
            source="society:abc", type=RelType.SERVES, target=f"industry:{character}x", provenance=PROV
        )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_an_id_in_its_one_spelling_stays_as_it_is(key: str) -> None:
    """What an export writes is read back as the same id: canonical_id is idempotent."""
    try:
        once = canonical_id(f"Society:{key}")
    except ValueError:
        return
    assert canonical_id(once) == once


def test_ids_made_from_names_ignore_invisible_characters() -> None:
    plain = make_id(NodeKind.SOCIETY, "Society of Tests")
    assert plain == "society:society-of-tests"
    for spelled in (
        "Soc\u00adiety of Tests",
        "Society\u200b of Tests",
        "\u202eSociety of Tests",
        "ＳＯＣＩＥＴＹ of Tests",
    ):
        assert make_id(NodeKind.SOCIETY, spelled) == plain, spelled


# -- names and free text -----------------------------------------------------------------------

TEXT_FIELDS = ["name", "name_zh", "aliases", "description", "evidence", "discipline"]


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize(
    ("character", "named"),
    [
        ("\x00", "U+0000 (NULL)"),
        ("\x08", "U+0008"),
        ("\x0b", "U+000B (LINE TABULATION)"),
        ("\x1b", "U+001B (ESCAPE)"),
        ("\x1f", "U+001F"),
        ("\x7f", "U+007F (DELETE)"),
        ("\x80", "U+0080"),
        ("\x85", "U+0085 (NEXT LINE)"),
        ("\x9f", "U+009F"),
        ("\ud800", "U+D800"),
        ("\ufffe", "U+FFFE"),
    ],
)
def test_names_and_text_refuse_controls_naming_the_field_and_the_character(
    field: str, character: str, named: str
) -> None:
    value = f"left{character}right"
    data: dict[str, object] = {"id": "society:x", "name": "X", "provenance": PROV}
    if field == "evidence":
        data["provenance"] = {"source": "notes", "basis": "stated", "evidence": value}
    else:
        data[field] = (value,) if field == "aliases" else value
    with pytest.raises(ValidationError) as info:
        Society.model_validate(data)
    (error,) = info.value.errors()
    assert error["loc"][-1 if field == "evidence" else 0] == field
    assert named in error["msg"] and "at character 5" in error["msg"]


def test_tab_and_line_breaks_are_kept_and_carriage_returns_read_as_line_feeds() -> None:
    assert clean_text("a\tb\nc") == "a\tb\nc"
    assert clean_text("one\r\ntwo\rthree") == "one\ntwo\nthree"
    node = Society(id="society:x", name="X\tY", description="one\r\ntwo", provenance=PROV)
    assert (node.name, node.description) == ("X\tY", "one\ntwo")


def test_plan_targets_are_named_under_the_same_rule() -> None:
    with pytest.raises(ValidationError, match=re.escape("U+0000 (NULL)")):
        Program(id="program:p", name="P", provenance=PROV, targets={"doctoral\x00station": 1})


# -- one definition ------------------------------------------------------------------------------


def test_the_date_pattern_is_written_in_one_place() -> None:
    """Only graph_service/core/text.py spells out what a date looks like; every other module imports it."""
    fragments = (r"0[1-9]|1[0-2]", r"\d{4}", r"[0-9]{4}", "fromisoformat")
    found = []
    for package in ("graph_service", "loaders", "queries", "visualizations"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            found += [f"{path.relative_to(ROOT)}: {f}" for f in fragments if f in text]
    assert sorted(found) == [
        r"graph_service/core/text.py: 0[1-9]|1[0-2]",
        "graph_service/core/text.py: [0-9]{4}",
        "graph_service/core/text.py: fromisoformat",
    ]


# -- the command line ----------------------------------------------------------------------------


def _innograph(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INNOGRAPH_", "NEO4J_"))}
    env["INNOGRAPH_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [str(INNOGRAPH), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_the_command_line_reads_as_of_by_the_same_rule(tmp_path: Path) -> None:
    assert _innograph("load", str(MINI), data_dir=tmp_path).returncode == 0

    def serving(as_of: str) -> list[str]:
        done = _innograph("societies", "电气", "--as-of", as_of, "--format", "json", data_dir=tmp_path)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        assert answer["as_of"] == partial_date(as_of)
        return sorted(s["society"]["id"] for s in answer["results"])

    assert serving("２０２１－０９") == serving("2021-09") != serving("2020")
    assert serving("2020-02-29") == serving("2020")
    for as_of, problem in [
        ("٢٠٢١", "U+0662 (ARABIC-INDIC DIGIT TWO) is a digit of another script"),
        ("२०२१", "U+0968 (DEVANAGARI DIGIT TWO) is a digit of another script"),
        ("2021-02-30", "'2021-02-30' is not a date in the calendar"),
        ("2021/09", "'2021/09' is not a date; write 2021, 2021-05 or 2021-05-31"),
    ]:
        done = _innograph("gaps", "--as-of", as_of, data_dir=tmp_path)
        assert done.returncode == 2, (as_of, done.stdout)
        assert problem in done.stderr and "--as-of" in done.stderr and "Traceback" not in done.stderr
