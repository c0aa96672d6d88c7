"""Prints the planner-question score table after the run: right answers per backend."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.quality.questions import SCORES

    if not SCORES:
        return
    report = terminalreporter
    report.section("planner questions")
    for backend, answers in sorted(SCORES.items()):
        right = sum(1 for wrong in answers.values() if wrong is None)
        report.write_line(f"{backend:9} {right}/{len(answers)} right")
        for qid, wrong in sorted(answers.items()):
            if wrong is not None:
                report.write_line(f"    {qid}: {wrong}")
