"""The designer's form model (surveys/survey_form.py): any valid survey goes into the form's fields and back
to YAML with the same meaning (a property test over generated surveys of every question type, branching rule,
language count and optional part, and over every example file); a loader problem names its form field."""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from surveys.designer import survey_yaml
from surveys.loader import SurveyError, load_survey_file, load_survey_text, parse_survey
from surveys.survey_form import field_for, from_fields, to_fields

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "surveys" / "examples").glob("*.yaml")) + sorted((ROOT / "tests" / "transcripts" / "surveys").glob("*.yaml"))
WORDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40) \
    .map(str.strip).filter(bool).filter(lambda t: "{" not in t and "}" not in t)


def texts(langs):
    return st.fixed_dictionaries({lang: WORDS for lang in langs})


@st.composite
def surveys(draw):
    langs = draw(st.lists(st.sampled_from(["en", "es", "fr", "pt-BR"]), min_size=1, max_size=3, unique=True))
    n = draw(st.integers(1, 6))
    keys = [f"q{i}_{draw(st.sampled_from(['a', 'b', 'x']))}" for i in range(n)]
    questions = []
    for i, key in enumerate(keys):
        kind = draw(st.sampled_from(["text", "scale", "nps", "choice", "yesno"]))
        q: dict = {"key": key, "type": kind, "prompt": draw(texts(langs))}
        if draw(st.booleans()):
            q["optional"] = True
        value = st.just("x")
        if kind == "scale":
            lo = draw(st.integers(0, 5))
            hi = draw(st.integers(lo + 1, lo + 10))
            q.update(min=lo, max=hi, min_label=draw(texts(langs)), max_label=draw(texts(langs)))
            value = st.integers(lo, hi)
        elif kind == "nps":
            if draw(st.booleans()):
                q.update(min_label=draw(texts(langs)), max_label=draw(texts(langs)))
            value = st.integers(0, 10)
        elif kind == "choice":
            ck = draw(st.lists(st.sampled_from(["yes", "no", "1", "a_b", "maybe", "on", "null", "3"]),
                               min_size=2, max_size=5, unique=True))
            q["choices"] = [{"key": c, "label": draw(texts(langs))} for c in ck]
            value = st.sampled_from(ck)
        elif kind == "yesno":
            value = st.booleans()
        else:
            value = WORDS
        later = keys[i + 1:] + ["end"]
        rules = []
        for _ in range(draw(st.integers(0, 2))):
            ops = {"scale": ["lt", "lte", "gt", "gte", "eq", "ne", "between", "in", "answered"],
                   "nps": ["lt", "gte", "between", "not_in", "answered"], "choice": ["eq", "ne", "in", "not_in", "answered"],
                   "yesno": ["eq", "ne", "answered"], "text": ["eq", "ne", "answered"]}[kind]
            op = draw(st.sampled_from(ops))
            if op == "answered":
                v = draw(st.booleans())
            elif op in ("in", "not_in"):
                v = draw(st.lists(value, min_size=1, max_size=3, unique=True))
            elif op == "between":
                a, b = sorted((draw(value), draw(value)))
                v = [a, b]
            else:
                v = draw(value)
            rules.append({"when": {op: v}, "goto": draw(st.sampled_from(later))})
        if draw(st.booleans()) and i + 1 < n:
            rules.append({"goto": draw(st.sampled_from(later))})
        if rules:
            q["next"] = rules
        questions.append(q)
    d = {"id": "generated", "title": draw(WORDS), "version": draw(st.sampled_from(["1", "2026-11", "v3"])),
         "languages": langs, "intro": draw(texts(langs)), "questions": questions, "outro": draw(texts(langs))}
    if draw(st.booleans()):
        d["schedule"] = {"rule": draw(st.sampled_from(["mon 10:00", "first tue of month 12:00", "every 2 weeks on fri 09:30"])),
                         "timezone": draw(st.sampled_from(["Europe/London", "America/Sao_Paulo"])),
                         **({"start": "2026-01-05"} if draw(st.booleans()) else {}),
                         **({"fatigue_days": draw(st.integers(1, 30))} if draw(st.booleans()) else {})}
    if draw(st.booleans()):
        d["audience"] = {"organisations": draw(st.lists(st.sampled_from(["river", "youth", "Demo"]), min_size=1,
                                                        max_size=2, unique=True))}
    if draw(st.booleans()):
        d["reminders"] = {"not_started_after_hours": draw(st.integers(1, 24))}
        d["expire_after_hours"] = draw(st.integers(25, 200))
    return d


def round_trip(survey):
    fields = to_fields(survey.to_dict())
    assert all(isinstance(v, str) for v in fields.values())       # what an HTML form can carry
    data = from_fields(fields, survey.id)
    back = load_survey_text(survey_yaml(data), "form.yaml")       # saved as YAML, loaded as a file is
    return back


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(surveys())
def test_any_valid_survey_goes_through_the_form_and_back_with_the_same_meaning(data):
    try:
        survey = parse_survey(data, "generated.yaml")
    except SurveyError as exc:          # the generator aims at valid surveys; the few it misses say why here
        assume(False), str(exc)
        return
    back = round_trip(survey)
    assert back == survey and back.content_hash == survey.content_hash


def test_every_example_file_goes_through_the_form_and_back():
    assert FILES
    for path in FILES:
        survey = load_survey_file(path)
        assert round_trip(survey).content_hash == survey.content_hash, path.name


def test_a_loader_problem_names_its_form_field():
    assert field_for("questions[2].choices[0].label.es") == "q2.c0.label.es"
    assert field_for("questions[0].next[1].goto") == "q0.r1.goto"
    assert field_for("questions[0].next[1].when.lte") == "q0.r1.value"
    assert field_for("questions[3]") == "q3.key"
    assert field_for("intro.es") == "intro.es" and field_for("schedule.rule") == "schedule.rule"
    # a form with a Spanish prompt left empty: the loader's problem lands on that field
    survey = load_survey_file(ROOT / "surveys" / "examples" / "weekly.yaml")
    fields = to_fields(survey.to_dict())
    fields["q0.prompt.es"] = ""
    try:
        parse_survey(from_fields(fields, survey.id), "weekly.yaml")
    except SurveyError as exc:
        assert [field_for(p, r) for p, r in exc.problems] == ["q0.prompt.es"], exc.problems
    else:
        raise AssertionError("an empty translation was accepted")
