"""Survey definitions: the example files, navigation, serialisation, validation errors, schedule rules."""
from __future__ import annotations

import copy
import json
from datetime import date, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.definition import Condition, Question, Rule, Survey
from surveys.loader import SurveyError, lint_survey, load_survey_file, load_survey_text, parse_survey
from surveys.schedule_rule import ScheduleRule, parse_schedule_rule

EXAMPLES = Path(__file__).resolve().parent.parent / "surveys" / "examples"


@pytest.fixture(scope="module")
def weekly() -> Survey:
    return load_survey_file(EXAMPLES / "weekly.yaml")


@pytest.fixture(scope="module")
def service() -> Survey:
    return load_survey_file(EXAMPLES / "service.yaml")


# ---- the examples ----------------------------------------------------------------------------------
def test_examples_load_without_warnings(weekly: Survey, service: Survey) -> None:
    assert weekly.id == "weekly-checkin" and service.id == "service-experience"
    assert weekly.languages == service.languages == ("en", "es")
    assert weekly.version == "1"  # YAML int kept as the author's label
    assert weekly.schedule is not None and weekly.schedule.rule == "mon 10:00"
    assert weekly.schedule.timezone == "Europe/London"
    types = {q.type for q in weekly.questions + service.questions}
    assert types == {"text", "scale", "nps", "choice", "yesno"}
    assert lint_survey(weekly) == [] and lint_survey(service) == []
    nps = service.question("recommend")
    assert (nps.min, nps.max) == (0, 10)


def test_weekly_branches(weekly: Survey) -> None:
    assert weekly.first_key == "week"
    assert weekly.next_key("week", 2, True) == "what_was_hard"
    assert weekly.next_key("week", 3, True) == "support"
    assert weekly.next_key("week", None, False) == "support"  # skipped: conditions fail, the catch-all applies
    assert weekly.next_key("what_was_hard", "money", True) == "support"  # falls through in file order
    assert weekly.next_key("support", True, True) == "anything_else"
    assert weekly.next_key("anything_else", None, False) is None  # after the last question
    assert weekly.index("support") == 2
    with pytest.raises(KeyError):
        weekly.question("nope")


def test_service_branches(service: Survey) -> None:
    after = {score: service.next_key("recommend", score, True) for score in range(11)}
    assert {s for s, k in after.items() if k == "do_better"} == set(range(7))
    assert {s for s, k in after.items() if k == "make_it_ten"} == {7, 8}
    assert {s for s, k in after.items() if k == "did_well"} == {9, 10}
    for key in ("do_better", "make_it_ten", "did_well"):
        assert service.next_key(key, "words", True) == "heard_about"
    assert service.next_key("heard_about", "friend", True) == "helped"
    assert service.next_key("helped", False, True) is None


def test_condition_matches() -> None:
    assert Condition("answered", False).matches(None, False)
    assert not Condition("answered", True).matches(None, False)
    assert not Condition("ne", 3).matches(None, False)  # every op but 'answered' fails on no answer
    assert Condition("in", ["bus", "walk"]).matches("walk", True)
    assert Condition("not_in", [1, 2]).matches(3, True)
    assert Condition("between", [7, 8]).matches(8, True) and not Condition("between", [7, 8]).matches(9, True)
    assert not Condition("eq", 1).matches(True, True)  # True == 1 in Python, but not here
    assert Condition("eq", "Stop").matches("  stop ", True)  # text compares like people type
    assert Condition("in", [1, 2]) == Condition("in", (1, 2))  # lists are stored as tuples


def test_goto_end_finishes() -> None:
    q = Question("a", "yesno", {"en": "A?"}, next=(Rule("end", Condition("eq", False)),))
    survey = Survey("s", "S", "1", ("en",), {"en": "Hi"}, {"en": "Bye"}, (q, Question("b", "text", {"en": "B?"})))
    assert survey.next_key("a", False, True) is None
    assert survey.next_key("a", True, True) == "b"


def test_round_trip_and_hash(weekly: Survey, service: Survey) -> None:
    for survey in (weekly, service):
        data = survey.to_dict()
        stored = json.loads(json.dumps(data))  # what the database gives back
        assert Survey.from_dict(stored) == survey
        assert Survey.from_dict(stored).content_hash == survey.content_hash
        assert hash(Survey.from_dict(stored)) == hash(survey)
        assert parse_survey(stored, "stored") == survey  # to_dict output is valid YAML-format data
        assert list(data) == list(Survey.from_dict(stored).to_dict())  # stable key order
    assert weekly.content_hash == load_survey_file(EXAMPLES / "weekly.yaml").content_hash
    assert len(weekly.content_hash) == 64 and weekly.content_hash != service.content_hash
    changed = copy.deepcopy(weekly.to_dict())
    changed["questions"][0]["prompt"]["es"] += "!"
    assert Survey.from_dict(changed).content_hash != weekly.content_hash


def test_schedule_dates_serialise_as_iso(service: Survey) -> None:
    assert service.schedule is not None and service.schedule.start == date(2026, 1, 6)
    assert service.to_dict()["schedule"]["start"] == "2026-01-06"


# ---- broken files ----------------------------------------------------------------------------------
# A valid one-language header; most cases below add only their questions. Single-language surveys may
# write texts as plain strings.
HEAD = "id: s\ntitle: T\nversion: 1\nlanguages: [en]\nintro: Hi\noutro: Bye\n"
HEAD2 = "id: s\ntitle: T\nversion: 1\nlanguages: [en, es]\nintro: {en: Hi, es: Hola}\noutro: {en: Bye, es: Adiós}\n"
ONE_Q = "questions:\n  - {key: q, type: text, prompt: 'Hi?'}\n"

BROKEN = [
    # (file name, YAML, path, reason substring)
    ("syntax.yaml", HEAD + "questions:\n  - key: q\n   type: text\n", "line 9", "invalid YAML"),
    ("colon.yaml", HEAD + "questions:\n  - key: q\n    type: text\n    prompt: Note: this\n", "line 10", "put text containing ': ' in quotes"),
    ("dupkey.yaml", HEAD + "questions:\n  - key: q\n    type: text\n    prompt: A\n    prompt: B\n", "line 11", "duplicate key 'prompt'"),
    ("baddate.yaml", HEAD + ONE_Q + "schedule: {rule: mon 10:00, start: 2026-02-30}\n", "line 9", "not a real date"),
    ("flow.yaml", HEAD + "questions:\n  - {key: q, type: text, prompt: Why?}\n", "line 8", "put text containing punctuation"),
    ("list.yaml", "- id: s\n- title: T\n", "", "expected a mapping of survey settings"),
    ("missing.yaml", "id: s\ntitle: T\nversion: 1\nlanguages: [en]\nintro: Hi\n" + ONE_Q, "", "missing 'outro'"),
    ("typo.yaml", HEAD + "questions:\n  - {key: q, type: text, promt: Hi}\n", "questions[0].promt", "unknown key 'promt'; did you mean 'prompt'?"),
    ("toplevel.yaml", HEAD + ONE_Q + "expire_hours: 4\n", "expire_hours", "did you mean 'expire_after_hours'?"),
    ("int.yaml", HEAD + ONE_Q + "expire_after_hours: five\n", "expire_after_hours", "expected an integer, got 'five'"),
    ("bool.yaml", HEAD + ONE_Q + "expire_after_hours: yes\n", "expire_after_hours", "expected an integer, got true"),
    ("id.yaml", HEAD.replace("id: s", "id: Weekly Checkin") + ONE_Q, "id", "'Weekly Checkin' is not valid"),
    ("lang.yaml", HEAD.replace("[en]", "[English]") + ONE_Q, "languages[0]", "not a language code"),
    ("dupq.yaml", HEAD + "questions:\n  - {key: q, type: text, prompt: A}\n  - {key: q, type: text, prompt: B}\n",
     "questions[1].key", "duplicate question key 'q' (also questions[0])"),
    ("qkey.yaml", HEAD + "questions:\n  - {key: end, type: text, prompt: A}\n", "questions[0].key", "'end' is reserved"),
    ("nolang.yaml", HEAD2.replace("Hola", "Hi").replace("es: Hi", "fr: Hi") + "questions:\n  - {key: q, type: text, prompt: {en: A, es: B}}\n",
     "intro", "missing translation for 'es'"),
    ("extralang.yaml", HEAD2 + "questions:\n  - {key: q, type: text, prompt: {en: A, es: B, fr: C}}\n",
     "questions[0].prompt.fr", "not in languages (en, es)"),
    ("plain.yaml", HEAD2 + "questions:\n  - {key: q, type: text, prompt: Hi}\n", "questions[0].prompt", "expected a text per language"),
    ("empty.yaml", HEAD + "questions:\n  - {key: q, type: text, prompt: {en: ''}}\n", "questions[0].prompt.en", "empty text"),
    ("type.yaml", HEAD + "questions:\n  - {key: q, type: rating, prompt: A}\n", "questions[0].type",
     "unknown question type 'rating'; use one of: text, scale, nps, choice, yesno"),
    ("scale.yaml", HEAD + "questions:\n  - {key: q, type: scale, min: 5, max: 1, min_label: Bad, max_label: Good, prompt: A}\n",
     "questions[0].max", "must be more than min (5)"),
    ("wide.yaml", HEAD + "questions:\n  - {key: q, type: scale, min: 0, max: 20, min_label: Bad, max_label: Good, prompt: A}\n",
     "questions[0]", "at most 11 points"),
    ("labels.yaml", HEAD + "questions:\n  - {key: q, type: scale, min: 1, max: 5, prompt: A}\n", "questions[0]", "missing 'min_label'"),
    ("nps.yaml", HEAD + "questions:\n  - {key: q, type: nps, min: 1, prompt: A}\n", "questions[0].min", "always run from 0 to 10"),
    ("yesnomax.yaml", HEAD + "questions:\n  - {key: q, type: yesno, max: 3, prompt: A}\n", "questions[0].max", "not used by yesno questions"),
    ("onechoice.yaml", HEAD + "questions:\n  - key: q\n    type: choice\n    prompt: A\n    choices:\n      - {key: bus, label: Bus}\n",
     "questions[0].choices", "2 to 12 choices, got 1"),
    ("dupchoice.yaml", HEAD + "questions:\n  - key: q\n    type: choice\n    prompt: A\n    choices:\n"
     "      - {key: bus, label: Bus}\n      - {key: bus, label: Coach}\n", "questions[0].choices[1].key", "duplicate choice key 'bus'"),
    ("yeskey.yaml", HEAD + "questions:\n  - key: q\n    type: choice\n    prompt: A\n    choices:\n"
     "      - {key: yes, label: Yes}\n      - {key: maybe, label: Maybe}\n", "questions[0].choices[0].key", "got true (YAML reads unquoted yes"),
    ("choiceop.yaml", HEAD + "questions:\n  - key: q\n    type: choice\n    prompt: A\n    choices: [{key: a, label: A}, {key: b, label: B}]\n"
     "    next:\n      - {when: {lt: 2}, goto: end}\n", "questions[0].next[0].when.lt", "'lt' does not apply to a choice question"),
    ("nochoice.yaml", HEAD + "questions:\n  - key: q\n    type: choice\n    prompt: A\n    choices: [{key: a, label: A}, {key: b, label: B}]\n"
     "    next:\n      - {when: {in: [a, c]}, goto: end}\n", "questions[0].next[0].when.in[1]", "no choice 'c'; the choices are a, b"),
    ("range.yaml", HEAD + "questions:\n  - {key: q, type: nps, prompt: A, next: [{when: {lte: 11}, goto: end}]}\n",
     "questions[0].next[0].when.lte", "11 is outside the question's range 0 to 10"),
    ("between.yaml", HEAD + "questions:\n  - {key: q, type: nps, prompt: A, next: [{when: {between: [8, 7]}, goto: end}]}\n",
     "questions[0].next[0].when.between", "lo (8) is more than hi (7)"),
    ("yesnoeq.yaml", HEAD + "questions:\n  - {key: q, type: yesno, prompt: A, next: [{when: {eq: maybe}, goto: end}]}\n",
     "questions[0].next[0].when.eq", "expected true or false, got 'maybe'"),
    ("op.yaml", HEAD + "questions:\n  - {key: q, type: nps, prompt: A, next: [{when: {less_than: 3}, goto: end}]}\n",
     "questions[0].next[0].when.less_than", "unknown operator 'less_than'"),
    ("twoops.yaml", HEAD + "questions:\n  - {key: q, type: nps, prompt: A, next: [{when: {gt: 3, lt: 7}, goto: end}]}\n",
     "questions[0].next[0].when", "exactly one operator"),
    ("weekly.yaml", HEAD + "questions:\n  - {key: a, type: text, prompt: A}\n  - {key: b, type: text, prompt: B}\n"
     "  - {key: c, type: nps, prompt: C, next: [{when: {lte: 6}, goto: why_low}]}\n",
     "questions[2].next[0].goto", "no question 'why_low'"),
    ("cycle.yaml", HEAD + "questions:\n  - {key: a, type: text, prompt: A}\n  - {key: b, type: text, prompt: B, next: a}\n",
     "questions[1].next", "cycle: a -> b -> a"),
    ("self.yaml", HEAD + "questions:\n  - {key: a, type: yesno, prompt: A, next: [{when: {eq: no}, goto: a}]}\n",
     "questions[0].next[0].goto", "cycle: a -> a"),
    ("unreachable.yaml", HEAD + "questions:\n  - {key: a, type: text, prompt: A, next: end}\n  - {key: b, type: text, prompt: B}\n",
     "questions[1]", "unreachable from the first question"),
    ("order.yaml", HEAD + "questions:\n  - key: a\n    type: nps\n    prompt: A\n    next:\n      - goto: end\n"
     "      - {when: {lte: 6}, goto: b}\n  - {key: b, type: text, prompt: B}\n", "questions[0].next[0]", "must be the last rule"),
    ("placeholder.yaml", HEAD.replace("intro: Hi", "intro: 'Hi {name}'") + ONE_Q, "intro.en", "unknown placeholder '{name}'"),
    ("rule.yaml", HEAD + ONE_Q + "schedule: {rule: thurs 10:00}\n", "schedule.rule", "unknown day 'thurs'"),
    ("tz.yaml", HEAD + ONE_Q + "schedule: {rule: mon 10:00, timezone: Europe/Londn}\n", "schedule.timezone",
     "unknown timezone 'Europe/Londn'; did you mean 'Europe/London'?"),
    ("dates.yaml", HEAD + ONE_Q + "schedule: {rule: mon 10:00, start: 2026-12-31, end: 2026-01-05}\n", "schedule.start",
     "start (2026-12-31) is after end (2026-01-05)"),
    ("fatigue.yaml", HEAD + ONE_Q + "schedule: {rule: mon 10:00, fatigue_days: 0}\n", "schedule.fatigue_days", "must be more than 0"),
    ("channel.yaml", HEAD + ONE_Q + "audience: {channels: [whatsapp]}\n", "audience.channels[0]", "'whatsapp' is not a channel"),
    ("audlang.yaml", HEAD + ONE_Q + "audience: {languages: [fr]}\n", "audience.languages[0]", "not one of the survey's languages (en)"),
    ("reminder.yaml", HEAD + ONE_Q + "reminders: {not_started_after_hours: -1}\n", "reminders.not_started_after_hours", "must be more than 0"),
    ("noquestions.yaml", HEAD + "questions: []\n", "questions", "no questions"),
    ("version.yaml", HEAD.replace("version: 1", "version: 1.10") + ONE_Q, "version", "put it in quotes"),
    ("nothing.yaml", "# just a comment\n", "", "the file is empty"),
]


def _assert_problem(err: SurveyError, file: str, path: str, reason: str) -> None:
    prefix = f"{file}: {path}: " if path else f"{file}: "
    lines = str(err).splitlines()
    assert any(line.startswith(prefix) and reason in line for line in lines), "\n".join(lines)


@pytest.mark.parametrize(("file", "text", "path", "reason"), BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_survey(file: str, text: str, path: str, reason: str) -> None:
    with pytest.raises(SurveyError) as info:
        load_survey_text(text, file)
    assert info.value.file == file
    _assert_problem(info.value, file, path, reason)


def test_cases_are_otherwise_valid() -> None:
    # Guards the table: the shared pieces are valid, so each case fails for its own reason.
    assert load_survey_text(HEAD + ONE_Q, "ok.yaml").questions[0].prompt == {"en": "Hi?"}
    assert load_survey_text(HEAD + ONE_Q + "schedule: {rule: mon 10:00, start: 2026-02-28}\n", "ok.yaml")
    assert load_survey_text(HEAD2 + "questions:\n  - {key: q, type: text, prompt: {en: A, es: B}}\n", "ok.yaml")


def test_problems_are_collected_not_just_the_first() -> None:
    text = HEAD.replace("id: s", "id: S!") + "questions:\n  - {key: q, type: scale, prompt: A}\n" + "expire_after_hours: 0\n"
    with pytest.raises(SurveyError) as info:
        load_survey_text(text, "many.yaml")
    paths = [p for p, _ in info.value.problems]
    assert {"id", "questions[0]", "expire_after_hours"} <= set(paths)
    assert len(str(info.value).splitlines()) == len(info.value.problems)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(SurveyError) as info:
        load_survey_file(tmp_path / "sub" / "gone.yaml")
    assert str(info.value) == "gone.yaml: file not found"
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes((HEAD + ONE_Q.replace("Hi?", "¿Qué?")).encode("latin-1"))
    with pytest.raises(SurveyError) as info:
        load_survey_file(latin1)
    _assert_problem(info.value, "latin1.yaml", "line 8", "not UTF-8")
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbf" + (HEAD + ONE_Q).encode())
    assert load_survey_file(bom).id == "s"


def test_lint_warnings() -> None:
    text = HEAD + "questions:\n  - {key: q, type: scale, min: 1, max: 5, min_label: Bad, max_label: Good, prompt: How was it}\n" \
        "schedule: {rule: every 2 weeks on thu 18:30}\nreminders: {not_started_after_hours: 48}\nexpire_after_hours: 48\n"
    warnings = lint_survey(load_survey_text(text, "lint.yaml"))
    assert any(w.startswith("questions[0].prompt.en: doesn't mention the range 1 to 5") for w in warnings)
    assert any(w.startswith("schedule.start:") for w in warnings)
    assert any(w.startswith("reminders.not_started_after_hours:") for w in warnings)


# ---- schedule rules --------------------------------------------------------------------------------
GOOD_RULES = [
    ("mon 10:00", ScheduleRule("weekly", (0,), time(10, 0))),
    ("Mon,Thu 10:00", ScheduleRule("weekly", (0, 3), time(10, 0))),
    ("thursday and monday 9:05", ScheduleRule("weekly", (0, 3), time(9, 5))),
    ("mon, wed and fri at 17:45", ScheduleRule("weekly", (0, 2, 4), time(17, 45))),
    ("every monday 08:00", ScheduleRule("weekly", (0,), time(8, 0))),
    ("daily 09:30", ScheduleRule("weekly", tuple(range(7)), time(9, 30))),
    ("every day 09:30", ScheduleRule("weekly", tuple(range(7)), time(9, 30))),
    ("weekdays 12:00", ScheduleRule("weekly", (0, 1, 2, 3, 4), time(12, 0))),
    ("every 2 weeks on thu 18:30", ScheduleRule("weekly", (3,), time(18, 30), every_weeks=2)),
    ("every other week on sun 00:00", ScheduleRule("weekly", (6,), time(0, 0), every_weeks=2)),
    ("first tue of month 12:00", ScheduleRule("monthly", (1,), time(12, 0), nth=1)),
    ("LAST Friday of the month 23:59", ScheduleRule("monthly", (4,), time(23, 59), nth=-1)),
    ("  third   sat of the month 10:00 ", ScheduleRule("monthly", (5,), time(10, 0), nth=3)),
]
BAD_RULES = [
    ("thurs 10:00", "unknown day 'thurs'; use mon, tue, wed, thu, fri, sat, sun"),
    ("mon", "should end with a 24-hour time"),
    ("mon 6pm", "should end with a 24-hour time"),
    ("mon 24:00", "'24:00' is not a time"),
    ("10:00", "missing the day(s)"),
    ("", "empty schedule rule"),
    ("mon,mon 10:00", "day 'mon' is given twice"),
    ("every 0 weeks on thu 10:00", "must be 1 to 52"),
    ("every 2 weeks thu 10:00", "every 2 weeks on thu 18:30"),
    ("fifth tue of month 10:00", "unknown position 'fifth'"),
    ("monthly 10:00", "monthly rules look like"),
]


@pytest.mark.parametrize(("text", "expected"), GOOD_RULES, ids=[r for r, _ in GOOD_RULES])
def test_good_schedule_rule(text: str, expected: ScheduleRule) -> None:
    assert parse_schedule_rule(text) == expected


@pytest.mark.parametrize(("text", "reason"), BAD_RULES, ids=[r or "empty" for r, _ in BAD_RULES])
def test_bad_schedule_rule(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        parse_schedule_rule(text)
    assert reason in str(info.value)


# ---- robustness ------------------------------------------------------------------------------------
# Keys are drawn partly from the real vocabulary so generated data gets past the first checks.
_VOCAB = ["id", "title", "version", "languages", "intro", "outro", "questions", "key", "type", "prompt", "min",
          "max", "choices", "label", "next", "when", "goto", "lte", "in", "between", "answered", "schedule",
          "rule", "timezone", "start", "audience", "channels", "en", "scale", "nps", "choice", "yesno", "text"]
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | st.sampled_from(_VOCAB) | st.dates()
_DATA = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(_VOCAB) | st.text(max_size=5) | st.integers() | st.none(), children, max_size=5),
    max_leaves=25,
)
_FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(_DATA)
def test_arbitrary_data_raises_only_survey_error(data: object) -> None:
    try:
        parse_survey(data, "fuzz.yaml")
    except SurveyError as e:
        assert e.problems and str(e).startswith("fuzz.yaml: ")


def _paths(node: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, path + (i,))
    return out


_SERVICE = load_survey_file(EXAMPLES / "service.yaml").to_dict()
_SERVICE_PATHS = _paths(_SERVICE)[1:]


@_FAST
@given(st.sampled_from(_SERVICE_PATHS), _DATA, st.booleans())
def test_mutated_example_raises_only_survey_error(path: tuple, value: object, delete: bool) -> None:
    # Near-valid data reaches the deep checks (conditions, flow) that random data rarely does.
    data = copy.deepcopy(_SERVICE)
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    try:
        parse_survey(data, "fuzz.yaml")
    except SurveyError as e:
        assert e.problems
