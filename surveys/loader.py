"""Load staff-written survey YAML into a validated `surveys.definition.Survey`.

Every malformed input raises `SurveyError` (never KeyError/TypeError/...), listing as many problems as can
sensibly be found in one go, each as (path, reason): the path names the place in the file in dotted keys
and [i] indexes ("questions[2].next[0].goto"), so staff can fix a file in one pass. YAML syntax problems
use "line N" as their path; problems with the file as a whole (not found, empty) have an empty path.

Format decisions beyond the model: a text may be a plain string when the survey has a single language;
`next` may be a plain question key (an unconditional goto); `schedule` may be a plain rule string.
"""
from __future__ import annotations

import difflib
import functools
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import available_timezones

import yaml

from surveys.channels import PARTICIPANT_CHANNELS
from surveys.definition import (
    END,
    OPERATORS,
    QUESTION_TYPES,
    Audience,
    Choice,
    Condition,
    Question,
    Reminders,
    Rule,
    Schedule,
    Survey,
    Text,
)
from surveys.schedule_rule import parse_schedule_rule

ID_PATTERN = r"[a-z0-9][a-z0-9_-]{0,63}"
LANGUAGE_PATTERN = r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*"
QUESTION_KEY_PATTERN = r"[a-z][a-z0-9_]{0,63}"
CHOICE_KEY_PATTERN = r"[a-z0-9_]{1,64}"
MIN_CHOICES, MAX_CHOICES = 2, 12
MAX_SCALE_SPAN = 10  # max - min: every answer must be typeable as a number on a phone keypad
TOP_KEYS = ("id", "title", "version", "languages", "intro", "questions", "outro",
            "schedule", "audience", "reminders", "expire_after_hours")
TOP_REQUIRED = ("id", "title", "version", "languages", "intro", "questions", "outro")
_COMMON_QUESTION_KEYS = ("key", "type", "prompt", "optional", "next")
QUESTION_KEYS = {
    "text": _COMMON_QUESTION_KEYS,
    "yesno": _COMMON_QUESTION_KEYS,
    "scale": _COMMON_QUESTION_KEYS + ("min", "max", "min_label", "max_label"),
    "nps": _COMMON_QUESTION_KEYS + ("min_label", "max_label"),
    "choice": _COMMON_QUESTION_KEYS + ("choices",),
}
ALL_QUESTION_KEYS = _COMMON_QUESTION_KEYS + ("min", "max", "min_label", "max_label", "choices")
CHOICE_KEYS = ("key", "label")
RULE_KEYS = ("when", "goto")
SCHEDULE_KEYS = ("rule", "timezone", "start", "end", "fatigue_days")
AUDIENCE_KEYS = ("organisations", "tags", "channels", "languages")
REMINDER_KEYS = ("not_started_after_hours", "not_finished_after_hours")
# Which condition operators make sense for each question type ('answered' works everywhere).
OPERATORS_BY_TYPE = {
    "scale": OPERATORS,
    "nps": OPERATORS,
    "choice": ("eq", "ne", "in", "not_in", "answered"),
    "yesno": ("eq", "ne", "answered"),
    "text": ("eq", "ne", "answered"),
}
# Words staff plausibly write instead of ours, which difflib wouldn't find by spelling alone.
_SYNONYMS = {
    "question": "prompt", "text": "prompt", "options": "choices", "answers": "choices", "if": "when",
    "then": "goto", "go_to": "goto", "jump": "goto", "required": "optional", "name": "key", "label": "prompt",
    "language": "languages", "langs": "languages", "expiry_hours": "expire_after_hours", "tz": "timezone",
    "organizations": "organisations", "orgs": "organisations",
}
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


class SurveyError(ValueError):
    """A survey file that cannot be used. `problems` are (path, reason) pairs; str() gives one line per problem,
    "file: path: reason" (or "file: reason" when the problem concerns the file as a whole)."""

    def __init__(self, file: str, problems: list[tuple[str, str]]):
        self.file = file
        self.problems = list(problems)
        super().__init__(str(self))

    def __reduce__(self):  # the default would call SurveyError(message) and fail
        return (SurveyError, (self.file, self.problems))

    def __str__(self) -> str:
        return "\n".join(f"{self.file}: {p}: {r}" if p else f"{self.file}: {r}" for p, r in self.problems)


# ---- entry points ----------------------------------------------------------------------------------
def load_survey_file(path: str | os.PathLike) -> Survey:
    """Read, parse and validate a survey file. Errors name the file by its basename."""
    name = os.path.basename(os.fspath(path))
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise SurveyError(name, [("", "file not found")]) from None
    except IsADirectoryError:
        raise SurveyError(name, [("", "is a directory, not a survey file")]) from None
    except OSError as e:
        raise SurveyError(name, [("", f"cannot read the file: {e.strerror or e}")]) from None
    try:
        text = raw.decode("utf-8-sig")  # editors on Windows like to add a BOM
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise SurveyError(name, [(f"line {line}", f"not UTF-8 text (byte 0x{raw[e.start]:02x}); save the file as UTF-8")]) from None
    return load_survey_text(text, name)


def load_survey_text(text: str, filename: str) -> Survey:
    """Parse YAML `text` and validate it; `filename` is used as given in error messages."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        raise SurveyError(filename, [_yaml_problem(e)]) from None
    except RecursionError:
        raise SurveyError(filename, [("", "the YAML is nested too deeply")]) from None
    if data is None:
        raise SurveyError(filename, [("", "the file is empty; a survey needs id, title, version, languages, intro, questions and outro")])
    return parse_survey(data, filename)


def parse_survey(data: object, filename: str) -> Survey:
    """Validate already-parsed data (as from YAML or `Survey.to_dict()`); raise SurveyError listing every problem found."""
    p = _Parser()
    survey = p.survey(data)
    if p.problems or survey is None:
        raise SurveyError(filename, p.problems or [("", "invalid survey")])
    return survey


def lint_survey(survey: Survey) -> list[str]:
    """Non-fatal advice about a valid survey, as "path: message" lines (maybe none)."""
    warnings: list[str] = []
    for i, q in enumerate(survey.questions):
        path = f"questions[{i}].prompt"
        for lang, prompt in q.prompt.items():
            if q.type in ("scale", "nps") and not (_mentions(prompt, q.min) and _mentions(prompt, q.max)):
                warnings.append(f"{path}.{lang}: doesn't mention the range {q.min} to {q.max}; people reply by number, so say which")
    if survey.schedule is not None and survey.schedule.start is None:
        if parse_schedule_rule(survey.schedule.rule).every_weeks > 1:
            warnings.append("schedule.start: 'every N weeks' counts weeks from the start date; set one so the weeks are predictable")
    if survey.reminders is not None and survey.expire_after_hours is not None:
        for name in REMINDER_KEYS:
            hours = getattr(survey.reminders, name)
            if hours is not None and hours >= survey.expire_after_hours:
                warnings.append(f"reminders.{name}: {hours} hours is not before expire_after_hours ({survey.expire_after_hours}), so it is never sent")
    return warnings


def _mentions(text: str, number: int | None) -> bool:
    return number is not None and re.search(rf"(?<!\d){number}(?!\d)", text) is not None


# ---- YAML ------------------------------------------------------------------------------------------
class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last) and reports impossible
    dates (2026-02-30) as YAML errors with a line, instead of a bare ValueError."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], int] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    k = (key_node.tag, key_node.value)
                    if k in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {_describe(key_node.value)} (also on line {seen[k]})", key_node.start_mark)
                    seen[k] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as e:
            raise yaml.constructor.ConstructorError(None, None, f"'{node.value}' is not a real date ({e})", node.start_mark) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def _yaml_problem(e: yaml.YAMLError) -> tuple[str, str]:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    where = f"line {mark.line + 1}" if mark is not None else ""
    problem = getattr(e, "problem", None) or str(e)
    if problem.startswith("duplicate key") or "is not a real date" in problem:
        return where, problem
    problem = " ".join(problem.split())
    if "mapping values are not allowed" in problem:
        problem += " (put text containing ': ' in quotes)"
    elif "expected <block end>" in problem:
        problem += " (check the indentation)"
    elif "expected ',' or '}'" in problem or "expected ',' or ']'" in problem:
        problem += " (inside { } or [ ], put text containing punctuation such as ? : , in quotes)"
    elif "'\\t'" in problem:
        problem += " (indent with spaces, not tabs)"
    return where, f"invalid YAML: {problem}"


# ---- validation ------------------------------------------------------------------------------------
def _describe(v: object) -> str:
    """A short, single-line description of a value for messages (values may be huge or odd)."""
    if v is None:
        return "nothing"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v) if abs(v) < 10**15 else "a very large number"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        s = v if len(v) <= 40 else v[:37] + "..."
        return "'" + "".join(c if c.isprintable() else repr(c)[1:-1] for c in s) + "'"
    if isinstance(v, datetime):
        return "a date and time"
    if isinstance(v, date):
        return f"a date ({v.isoformat()})"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, dict):
        return "a mapping"
    return f"a {type(v).__name__}"


def _join(path: str, key: object) -> str:
    if not (isinstance(key, str) and re.fullmatch(r"[\w-]+", key)):
        return path  # odd keys are quoted in the reason instead
    return f"{path}.{key}" if path else key


def _suggest(word: object, options: tuple[str, ...] | frozenset[str]) -> str | None:
    """The option `word` was probably meant to be (by case, synonym or spelling), or None."""
    if not isinstance(word, str):
        return None
    if word.lower() in options:
        return word.lower()
    if _SYNONYMS.get(word) in options:
        return _SYNONYMS[word]
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return close[0] if close else None


def _hint(word: object, options: tuple[str, ...] | frozenset[str]) -> str:
    suggestion = _suggest(word, options)
    return f"; did you mean '{suggestion}'?" if suggestion else ""


@functools.lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones()) - {"localtime", "posixrules", "Factory"}


@dataclass
class _Draft:
    """What one question entry yielded, even when parts are broken: enough to check gotos and flow."""

    path: str
    key: str | None = None
    question: Question | None = None
    gotos: list[tuple[object, str]] = field(default_factory=list)  # (goto, path)
    unconditional: bool = False  # has a rule without 'when': never falls through


class _Parser:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def err(self, path: str, reason: str) -> None:
        self.problems.append((path, reason))

    # -- generic values ----------------------------------------------------------------------------
    def mapping(self, path: str, v: object, allowed: tuple[str, ...], required: tuple[str, ...] = (),
                example: str = "key: value lines") -> dict | None:
        if not isinstance(v, dict):
            self.err(path, f"expected a mapping ({example}), got {_describe(v)}")
            return None
        suggested = {self.unknown(path, k, allowed) for k in v if k not in allowed}
        self.missing(path, v, required, suggested)
        return v

    def unknown(self, path: str, key: object, allowed: tuple[str, ...]) -> str | None:
        """Report an unknown key; return the key it probably meant."""
        suggestion = _suggest(key, allowed)
        hint = f"did you mean '{suggestion}'?" if suggestion else f"expected one of: {', '.join(allowed)}"
        self.err(_join(path, key), f"unknown key {_describe(key)}; {hint}")
        return suggestion

    def missing(self, path: str, v: dict, required: tuple[str, ...], suggested: set[str | None]) -> None:
        for k in required:
            if k not in v and k not in suggested:  # a misspelt key is already reported with its fix
                self.err(path, f"missing '{k}'")

    def string(self, path: str, v: object, pattern: str | None = None, explain: str = "") -> str | None:
        if not isinstance(v, str):
            reason = f"expected a string, got {_describe(v)}"
            if isinstance(v, bool):
                reason += " (YAML reads unquoted yes/no/on/off/true/false as true or false; put the word in quotes)"
            elif isinstance(v, (int, float)):
                reason += " (put it in quotes)"
            self.err(path, reason)
            return None
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            self.err(path, "contains characters that are not valid Unicode")
            return None
        if not v.strip():
            self.err(path, "empty text")
            return None
        if pattern is not None and not re.fullmatch(pattern, v):
            self.err(path, f"{_describe(v)} is not valid: {explain}")
            return None
        return v

    def integer(self, path: str, v: object, positive: bool = False) -> int | None:
        if isinstance(v, bool) or not isinstance(v, int):
            self.err(path, f"expected an integer, got {_describe(v)}")
            return None
        if positive and v <= 0:
            self.err(path, f"must be more than 0, got {_describe(v)}")
            return None
        return v

    def boolean(self, path: str, v: object) -> bool | None:
        if not isinstance(v, bool):
            self.err(path, f"expected true or false, got {_describe(v)}")
            return None
        return v

    def date(self, path: str, v: object) -> date | None:
        if isinstance(v, datetime):
            self.err(path, "expected a date like 2026-01-05, got a date and time")
            return None
        if isinstance(v, date):
            return v
        if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            try:
                return date.fromisoformat(v)
            except ValueError:
                self.err(path, f"{_describe(v)} is not a real date")
                return None
        self.err(path, f"expected a date like 2026-01-05, got {_describe(v)}")
        return None

    def string_list(self, path: str, v: object, allowed: tuple[str, ...] | None = None,
                    not_allowed: str = "") -> tuple[str, ...] | None:
        if not isinstance(v, list):
            extra = f" (write [{v}])" if isinstance(v, str) and "\n" not in v and len(v) < 40 else ""
            self.err(path, f"expected a list, got {_describe(v)}{extra}")
            return None
        out: list[str] = []
        ok = True
        for i, item in enumerate(v):
            s = self.string(f"{path}[{i}]", item)
            if s is None:
                ok = False
            elif allowed is not None and s not in allowed:
                self.err(f"{path}[{i}]", f"{_describe(s)} {not_allowed}{_hint(s, allowed)}")
                ok = False
            elif s in out:
                self.err(f"{path}[{i}]", f"{_describe(s)} is listed twice")
                ok = False
            else:
                out.append(s)
        return tuple(out) if ok else None

    def text(self, path: str, v: object, langs: tuple[str, ...] | None, placeholders: bool = True) -> Text | None:
        """A translated text: {lang: text} with exactly the survey's languages (or a plain string when the
        survey has one language). `placeholders`: whether {org} is allowed (labels are not filled in)."""
        if langs is not None and len(langs) == 1 and not isinstance(v, (dict, list)):
            s = self.string(path, v)  # a plain string will do; this explains what else went wrong
            if s is None:
                return None
            v = {langs[0]: s}
        elif langs is None and isinstance(v, str):
            self.string(path, v)  # the languages are broken (and reported): only check what we can
            return None
        if not isinstance(v, dict):
            example = ", ".join(f"{lang}: ..." for lang in (langs or ("en", "es")))
            self.err(path, f"expected a text per language, like {{{example}}}, got {_describe(v)}")
            return None
        out: dict[str, str] = {}
        ok = True
        for lang, s in v.items():
            if langs is not None and lang not in langs:
                self.err(_join(path, lang), f"translation for {_describe(lang)}, which is not in languages ({', '.join(langs)})")
                ok = False
                continue
            sub = _join(path, lang)
            s = self.string(sub, s)
            if s is None:
                ok = False
                continue
            problem = _placeholder_problem(s, placeholders)
            if problem:
                self.err(sub, problem)
                ok = False
            out[str(lang)] = s.strip()  # block scalars (|, >) end in a newline nobody means to send
        for lang in langs or ():
            if lang not in v:
                self.err(path, f"missing translation for '{lang}'")
                ok = False
        if not ok or langs is None:
            return None
        return {lang: out[lang] for lang in langs}  # canonical order: the survey's language order

    # -- the survey --------------------------------------------------------------------------------
    def survey(self, data: object) -> Survey | None:
        if not isinstance(data, dict):
            self.err("", f"expected a mapping of survey settings (id:, title:, questions: ...) at the top level, got {_describe(data)}")
            return None
        top = self.mapping("", data, TOP_KEYS, TOP_REQUIRED)
        assert top is not None
        survey_id = self.string("id", top["id"], ID_PATTERN,
                                "use lowercase letters, digits, '-' and '_' (up to 64, starting with a letter or digit), "
                                "e.g. weekly-checkin") if "id" in top else None
        title = self.string("title", top["title"]) if "title" in top else None
        version = self.version(top["version"]) if "version" in top else None
        langs = self.languages(top["languages"]) if "languages" in top else None
        intro = self.text("intro", top["intro"], langs) if "intro" in top else None
        outro = self.text("outro", top["outro"], langs) if "outro" in top else None
        questions = self.questions(top["questions"], langs) if "questions" in top else None
        schedule = self.schedule(top["schedule"]) if "schedule" in top else None
        audience = self.audience(top["audience"], langs) if "audience" in top else None
        reminders = self.reminders(top["reminders"]) if "reminders" in top else None
        expire = self.integer("expire_after_hours", top["expire_after_hours"], positive=True) \
            if "expire_after_hours" in top else None
        if self.problems:
            return None
        return Survey(id=survey_id, title=title, version=version, languages=langs, intro=intro, outro=outro,  # type: ignore[arg-type]
                      questions=questions, schedule=schedule, audience=audience, reminders=reminders,  # type: ignore[arg-type]
                      expire_after_hours=expire)

    def version(self, v: object) -> str | None:
        # Kept as the author's label. Dates are fine (lossless); floats aren't: YAML reads 1.10 as 1.1.
        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 10**18:
            return str(v)
        if isinstance(v, date) and not isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, str):
            if len(v) > 64:
                self.err("version", "too long (at most 64 characters)")
                return None
            return self.string("version", v.strip() or v)
        hint = " (put it in quotes: YAML reads 1.10 as the number 1.1)" if isinstance(v, float) else ""
        self.err("version", f"expected a number like 3 or a label like \"2026-11\", got {_describe(v)}{hint}")
        return None

    def languages(self, v: object) -> tuple[str, ...] | None:
        if isinstance(v, list) and not v:
            self.err("languages", "at least one language is needed, e.g. [en]")
            return None
        codes = self.string_list("languages", v)
        if codes is None:
            return None
        ok = True
        for i, code in enumerate(codes):
            if not re.fullmatch(LANGUAGE_PATTERN, code):
                self.err(f"languages[{i}]", f"{_describe(code)} is not a language code like 'en' or 'pt-BR'")
                ok = False
        return codes if ok else None

    # -- questions ---------------------------------------------------------------------------------
    def questions(self, v: object, langs: tuple[str, ...] | None) -> tuple[Question, ...] | None:
        if not isinstance(v, list):
            self.err("questions", f"expected a list of questions (each starting '- key: ...'), got {_describe(v)}")
            return None
        if not v:
            self.err("questions", "no questions; a survey needs at least one")
            return None
        drafts = [self.question(f"questions[{i}]", raw, langs) for i, raw in enumerate(v)]
        index: dict[str, int] = {}
        for i, d in enumerate(drafts):
            if d.key is None:
                continue
            if d.key in index:
                self.err(f"{d.path}.key", f"duplicate question key '{d.key}' (also questions[{index[d.key]}])")
            else:
                index[d.key] = i
        self.flow(drafts, index)
        if any(d.question is None for d in drafts):
            return None
        return tuple(d.question for d in drafts)  # type: ignore[misc]

    def question(self, path: str, raw: object, langs: tuple[str, ...] | None) -> _Draft:
        draft = _Draft(path)
        if not isinstance(raw, dict):
            self.err(path, f"expected a question (key:, type:, prompt: ...), got {_describe(raw)}")
            return draft
        qtype = raw.get("type")
        known_type = isinstance(qtype, str) and qtype in QUESTION_TYPES
        if "type" not in raw:
            self.err(path, f"missing 'type' (one of: {', '.join(QUESTION_TYPES)})")
        elif not known_type:
            self.err(f"{path}.type", f"unknown question type {_describe(qtype)}; use one of: {', '.join(QUESTION_TYPES)}"
                     f"{_hint(qtype, QUESTION_TYPES)}")
        allowed = QUESTION_KEYS[qtype] if known_type else ALL_QUESTION_KEYS  # type: ignore[index]
        suggested: set[str | None] = set()
        for k in raw:
            if k in allowed:
                continue
            if known_type and qtype == "nps" and k in ("min", "max"):
                self.err(f"{path}.{k}", "nps questions always run from 0 to 10; remove min and max")
            elif known_type and k in ALL_QUESTION_KEYS:
                self.err(f"{path}.{k}", f"'{k}' is not used by {qtype} questions")
            else:
                suggested.add(self.unknown(path, k, allowed))
        required = ("key", "prompt") + {"scale": ("min", "max", "min_label", "max_label"), "choice": ("choices",)}.get(
            qtype if known_type else "", ())  # type: ignore[arg-type]
        self.missing(path, raw, required, suggested)

        ok = known_type
        if "key" in raw:
            key = self.string(f"{path}.key", raw["key"], QUESTION_KEY_PATTERN,
                              "use lowercase letters, digits and '_', starting with a letter, e.g. how_was_it")
            if key == END:
                self.err(f"{path}.key", "'end' is reserved (goto: end finishes the survey)")
                key = None
            draft.key = key
        ok &= draft.key is not None
        prompt = self.text(f"{path}.prompt", raw["prompt"], langs) if "prompt" in raw else None
        ok &= prompt is not None
        optional = False
        if "optional" in raw:
            optional = self.boolean(f"{path}.optional", raw["optional"])  # type: ignore[assignment]
            ok &= optional is not None

        lo = hi = None
        min_label = max_label = None
        choices: tuple[Choice, ...] = ()
        choice_keys: tuple[str, ...] | None = None
        if qtype == "scale":
            lo, hi, ok_bounds = self.scale_bounds(path, raw)
            ok &= ok_bounds
        if qtype == "nps":
            lo, hi = 0, 10
        if qtype in ("scale", "nps"):
            if "min_label" in raw:
                min_label = self.text(f"{path}.min_label", raw["min_label"], langs, placeholders=False)
                ok &= min_label is not None
            if "max_label" in raw:
                max_label = self.text(f"{path}.max_label", raw["max_label"], langs, placeholders=False)
                ok &= max_label is not None
            if qtype == "nps" and ("min_label" in raw) != ("max_label" in raw):
                self.err(path, "give both min_label and max_label, or neither")
                ok = False
        if qtype == "choice" and "choices" in raw:
            parsed = self.choices(f"{path}.choices", raw["choices"], langs)
            ok &= parsed is not None
            if parsed is not None:
                choices = parsed
                choice_keys = tuple(c.key for c in parsed)

        rules: tuple[Rule, ...] = ()
        if "next" in raw:
            parsed_rules = self.rules(f"{path}.next", raw["next"], draft, qtype if known_type else None, lo, hi, choice_keys)
            ok &= parsed_rules is not None
            rules = parsed_rules or ()
        if ok:
            draft.question = Question(key=draft.key, type=qtype, prompt=prompt, optional=optional,  # type: ignore[arg-type]
                                      min=lo, max=hi, min_label=min_label, max_label=max_label, choices=choices, next=rules)
        return draft

    def scale_bounds(self, path: str, raw: dict) -> tuple[int | None, int | None, bool]:
        lo = self.integer(f"{path}.min", raw["min"]) if "min" in raw else None
        hi = self.integer(f"{path}.max", raw["max"]) if "max" in raw else None
        if lo is None or hi is None:
            return lo, hi, False
        if lo < 0:
            self.err(f"{path}.min", f"must be 0 or more, got {_describe(lo)}")
        elif lo >= hi:
            self.err(f"{path}.max", f"must be more than min ({_describe(lo)}), got {_describe(hi)}")
        elif hi - lo > MAX_SCALE_SPAN:
            self.err(path, f"a scale has at most {MAX_SCALE_SPAN + 1} points so answers fit a phone keypad; "
                           f"{lo} to {hi} has {hi - lo + 1}")
        else:
            return lo, hi, True
        return None, None, False

    def choices(self, path: str, v: object, langs: tuple[str, ...] | None) -> tuple[Choice, ...] | None:
        if not isinstance(v, list):
            self.err(path, f"expected a list of choices (each '- key: ...' with a label), got {_describe(v)}")
            return None
        if not MIN_CHOICES <= len(v) <= MAX_CHOICES:
            self.err(path, f"a choice question needs {MIN_CHOICES} to {MAX_CHOICES} choices, got {len(v)}")
        out: list[Choice] = []
        seen: dict[str, int] = {}
        ok = True
        for i, raw in enumerate(v):
            cp = f"{path}[{i}]"
            m = self.mapping(cp, raw, CHOICE_KEYS, CHOICE_KEYS, example="key: bus, label: {...}")
            if m is None:
                ok = False
                continue
            key = self.string(f"{cp}.key", m["key"], CHOICE_KEY_PATTERN,
                              "use lowercase letters, digits and '_', e.g. bus") if "key" in m else None
            if key is not None and key in seen:
                self.err(f"{cp}.key", f"duplicate choice key '{key}' (also choices[{seen[key]}])")
                key = None
            if key is not None:
                seen[key] = i
            label = self.text(f"{cp}.label", m["label"], langs, placeholders=False) if "label" in m else None
            if key is None or label is None:
                ok = False
            else:
                out.append(Choice(key, label))
        ok &= MIN_CHOICES <= len(v) <= MAX_CHOICES
        return tuple(out) if ok else None

    def rules(self, path: str, v: object, draft: _Draft, qtype: str | None, lo: int | None, hi: int | None,
              choice_keys: tuple[str, ...] | None) -> tuple[Rule, ...] | None:
        if isinstance(v, str):  # shorthand: `next: other_question`
            goto = self.string(path, v)
            if goto is None:
                return None
            draft.gotos.append((goto, path))
            draft.unconditional = True
            return (Rule(goto),)
        if not isinstance(v, list):
            self.err(path, f"expected a list of rules (- when: ..., goto: ...) or a question key, got {_describe(v)}")
            return None
        out: list[Rule] = []
        ok = True
        for j, raw in enumerate(v):
            rp = f"{path}[{j}]"
            m = self.mapping(rp, raw, RULE_KEYS, ("goto",), example="when: {lte: 2}, goto: question_key")
            if m is None:
                ok = False
                continue
            goto = self.string(f"{rp}.goto", m["goto"]) if "goto" in m else None
            if goto is not None:
                draft.gotos.append((goto, f"{rp}.goto"))
            when = None
            if "when" in m:
                when = self.condition(f"{rp}.when", m["when"], qtype, lo, hi, choice_keys)
                ok &= when is not None
            else:
                draft.unconditional = True
                if j != len(v) - 1:
                    self.err(rp, "a rule without 'when' always applies, so it must be the last rule")
                    ok = False
            if goto is None:
                ok = False
            else:
                out.append(Rule(goto, when))
        return tuple(out) if ok else None

    def condition(self, path: str, v: object, qtype: str | None, lo: int | None, hi: int | None,
                  choice_keys: tuple[str, ...] | None) -> Condition | None:
        if not isinstance(v, dict):
            self.err(path, f"expected a condition like {{lte: 2}} or {{eq: yes}}, got {_describe(v)}")
            return None
        if len(v) != 1:
            if not v:
                self.err(path, f"empty condition; use one operator: {', '.join(OPERATORS)}")
            else:
                self.err(path, f"a condition has exactly one operator, got {', '.join(_describe(k) for k in v)}; "
                               "use 'between' for a range, or one rule per condition")
            return None
        ((op, value),) = v.items()
        if not (isinstance(op, str) and op in OPERATORS):
            self.err(_join(path, op), f"unknown operator {_describe(op)}; use one of: {', '.join(OPERATORS)}{_hint(op, OPERATORS)}")
            return None
        vp = f"{path}.{op}"
        if op == "answered":
            b = self.boolean(vp, value)
            return None if b is None else Condition(op, b)
        if qtype is None:
            return None  # the type is already reported as broken: nothing to check the value against
        if op not in OPERATORS_BY_TYPE[qtype]:
            self.err(vp, f"'{op}' does not apply to a {qtype} question; use {', '.join(OPERATORS_BY_TYPE[qtype])}")
            return None
        if qtype == "yesno":
            b = self.boolean(vp, value)
            if b is None:
                self.problems[-1] = (vp, self.problems[-1][1] + " (yes/no answers compare with true or false, or yes/no unquoted)")
            return None if b is None else Condition(op, b)
        if qtype == "text":
            s = self.string(vp, value)
            return None if s is None else Condition(op, s)
        check = self.number_in_range if qtype in ("scale", "nps") else self.choice_key
        ctx = (lo, hi) if qtype in ("scale", "nps") else choice_keys
        if op in ("in", "not_in", "between"):
            example = "[lo, hi]" if op == "between" else "[a, b]"
            if not isinstance(value, list):
                self.err(vp, f"expected a list like {example}, got {_describe(value)}")
                return None
            if op == "between" and len(value) != 2:
                self.err(vp, f"expected two numbers [lo, hi], got {len(value)} items")
                return None
            if not value:
                self.err(vp, "empty list: this condition could never match")
                return None
            items = [check(f"{vp}[{k}]", item, ctx) for k, item in enumerate(value)]  # type: ignore[operator]
            if any(item is None for item in items):
                return None
            if op == "between" and items[0] > items[1]:
                self.err(vp, f"lo ({items[0]}) is more than hi ({items[1]})")
                return None
            return Condition(op, tuple(items))
        item = check(vp, value, ctx)  # type: ignore[operator]
        return None if item is None else Condition(op, item)

    def number_in_range(self, path: str, v: object, bounds: tuple[int | None, int | None]) -> int | None:
        n = self.integer(path, v)
        lo, hi = bounds
        if n is not None and lo is not None and hi is not None and not lo <= n <= hi:
            self.err(path, f"{_describe(n)} is outside the question's range {lo} to {hi}")
            return None
        return n

    def choice_key(self, path: str, v: object, keys: tuple[str, ...] | None) -> str | None:
        s = self.string(path, v)
        if s is not None and keys is not None and s not in keys:
            self.err(path, f"no choice '{s}'; the choices are {', '.join(keys)}{_hint(s, keys)}")
            return None
        return s

    def flow(self, drafts: list[_Draft], index: dict[str, int]) -> None:
        """Gotos must name a question (or 'end'); the graph of gotos and fall-throughs must have no cycle, and
        every question must be reachable from the first."""
        complete = all(d.key is not None for d in drafts)
        for d in drafts:
            for goto, path in d.gotos:
                if goto != END and goto not in index:
                    self.err(path, f"no question {_describe(goto)}{_hint(goto, tuple(index) + (END,))}")
                    complete = False
        if not complete or len(index) != len(drafts):
            return  # missing or duplicate keys: cycle and reachability reports would only be noise
        n = len(drafts)
        edges: list[list[int]] = []
        for i, d in enumerate(drafts):
            targets = [index[g] for g, _ in d.gotos if g != END]
            if not d.unconditional and i + 1 < n:
                targets.append(i + 1)
            edges.append(targets)
        for i, d in enumerate(drafts):
            for goto, path in d.gotos:
                # Fall-throughs only go forward, so every cycle contains a goto to an earlier (or the same) question.
                if goto != END and index[goto] <= i:
                    route = _route(edges, index[goto], i)
                    if route is not None:
                        names = [drafts[k].key for k in route] + [goto]
                        self.err(path, f"cycle: {' -> '.join(names)}")  # type: ignore[arg-type]
        reached = _reachable(edges, 0)
        for i, d in enumerate(drafts):
            if i not in reached:
                self.err(d.path, f"'{d.key}' is unreachable from the first question ('{drafts[0].key}')")

    # -- schedule, audience, reminders -------------------------------------------------------------
    def schedule(self, v: object) -> Schedule | None:
        if isinstance(v, str):  # shorthand: `schedule: mon 10:00`
            v = {"rule": v}
        m = self.mapping("schedule", v, SCHEDULE_KEYS, ("rule",), example="rule: mon 10:00, timezone: Europe/London")
        if m is None:
            return None
        n = len(self.problems)
        rule = self.string("schedule.rule", m["rule"]) if "rule" in m else None
        if rule is not None:
            try:
                parse_schedule_rule(rule)
            except ValueError as e:
                self.err("schedule.rule", str(e))
        tz = None
        if "timezone" in m:
            tz = self.string("schedule.timezone", m["timezone"])
            if tz is not None and tz not in _timezones():
                self.err("schedule.timezone", f"unknown timezone {_describe(tz)}{_hint(tz, _timezones()) or ', e.g. Europe/London'}")
        start = self.date("schedule.start", m["start"]) if "start" in m else None
        end = self.date("schedule.end", m["end"]) if "end" in m else None
        if start is not None and end is not None and start > end:
            self.err("schedule.start", f"start ({start}) is after end ({end})")
        fatigue = self.integer("schedule.fatigue_days", m["fatigue_days"], positive=True) if "fatigue_days" in m else None
        if len(self.problems) > n or rule is None:
            return None
        return Schedule(rule=rule, timezone=tz, start=start, end=end, fatigue_days=fatigue)

    def audience(self, v: object, langs: tuple[str, ...] | None) -> Audience | None:
        m = self.mapping("audience", v, AUDIENCE_KEYS, example="channels: [sms], tags: [youth]")
        if m is None:
            return None
        n = len(self.problems)
        values: dict[str, tuple[str, ...]] = {}
        for name in AUDIENCE_KEYS:
            if name not in m:
                continue
            allowed, why = None, ""
            if name == "channels":
                allowed, why = PARTICIPANT_CHANNELS, f"is not a channel; use {', '.join(PARTICIPANT_CHANNELS)}"
            elif name == "languages" and langs is not None:
                allowed, why = langs, f"is not one of the survey's languages ({', '.join(langs)})"
            values[name] = self.string_list(f"audience.{name}", m[name], allowed, why) or ()
        return None if len(self.problems) > n else Audience(**values)

    def reminders(self, v: object) -> Reminders | None:
        m = self.mapping("reminders", v, REMINDER_KEYS, example="not_started_after_hours: 24")
        if m is None:
            return None
        n = len(self.problems)
        hours = {k: self.integer(f"reminders.{k}", m[k], positive=True) for k in REMINDER_KEYS if k in m}
        return None if len(self.problems) > n else Reminders(**hours)


def _placeholder_problem(text: str, allowed: bool) -> str | None:
    rest = text.replace("{org}", "") if allowed else text
    m = _PLACEHOLDER.search(rest)
    if m is not None:
        if not allowed:
            return f"placeholders like {_describe(m.group())} are not filled in here; write the words out"
        return f"unknown placeholder {_describe(m.group())}; the only placeholder is {{org}}"
    if "{" in rest or "}" in rest:
        return "stray '{' or '}'; the only placeholder is {org}" if allowed else "braces '{' '}' are not allowed here"
    return None


def _route(edges: list[list[int]], start: int, goal: int) -> list[int] | None:
    """Shortest path start..goal (inclusive) in the question graph, or None."""
    parent: dict[int, int | None] = {start: None}
    queue = [start]
    for node in queue:
        if node == goal:
            path = [node]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for nxt in edges[node]:
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return None


def _reachable(edges: list[list[int]], start: int) -> set[int]:
    seen = {start}
    stack = [start]
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
