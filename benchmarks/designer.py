"""The survey designer's check as you type: how long checking a survey's YAML takes (the loader's validation
plus the warnings, SMS segments of every text included), and the form model's way there and back, on the example
surveys. Run: .venv/bin/python benchmarks/designer.py"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine  # noqa: E402
from config.settings import load_settings  # noqa: E402
from config.wiring import survey_checks  # noqa: E402
from surveys.designer import check_yaml, survey_yaml  # noqa: E402
from surveys.loader import load_survey_text  # noqa: E402
from surveys.survey_form import from_fields, to_fields  # noqa: E402

RUNS = 300


def timed(fn) -> tuple[float, float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    checks = survey_checks(load_settings())
    print(f"machine: {machine()}")
    for path in sorted((ROOT / "surveys" / "examples").glob("*.yaml")):
        text = path.read_text()
        survey = load_survey_text(text, path.name)
        p50, p95 = timed(lambda: check_yaml(text, checks, path.name))
        f50, f95 = timed(lambda: load_survey_text(survey_yaml(from_fields(to_fields(survey.to_dict()), survey.id)), "f"))
        print(f"{path.name}: {len(survey.questions)} questions x {len(survey.languages)} languages, {len(text):,} chars: "
              f"check p50 {p50:.1f} ms, p95 {p95:.1f} ms; form -> YAML -> survey p50 {f50:.1f} ms, p95 {f95:.1f} ms")


if __name__ == "__main__":
    main()
