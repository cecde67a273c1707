"""The `chorus` command line, run as people run it (SQLite in a temporary folder)."""
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parent.parent
CHORUS = str(Path(sys.executable).parent / "chorus")
EXAMPLES = sorted(str(p) for p in (ROOT / "surveys" / "examples").glob("*.yaml"))


@pytest.fixture
def env(tmp_path, monkeypatch):
    values = {"CHORUS_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
              "CHORUS_SECRET_KEY": "cli-test-secret-0123456789"}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def run(*args, input=None):
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result


def setup_demo():
    assert run("db", "upgrade").exit_code == 0
    assert run("surveys", "load", *EXAMPLES).exit_code == 0
    assert run("orgs", "add", "Demo Partnership", "--code", "demo").exit_code == 0


def test_every_command_has_help():
    for args in (["--help"], ["db", "upgrade", "--help"], ["surveys", "validate", "--help"], ["surveys", "load", "--help"],
                 ["surveys", "list", "--help"], ["orgs", "add", "--help"], ["participants", "add", "--help"],
                 ["participants", "import", "--help"], ["chat", "--help"], ["export", "answers", "--help"]):
        result = run(*args)
        assert result.exit_code == 0 and "Usage:" in result.output, args


def test_validate_reports_file_path_and_reason(tmp_path, env):
    bad = tmp_path / "weekly.yaml"
    bad.write_text((ROOT / "surveys/examples/weekly.yaml").read_text().replace("goto: support", "goto: why_low"))
    result = run("surveys", "validate", str(bad), *EXAMPLES)
    assert result.exit_code == 1
    assert "weekly.yaml: questions[0].next[1].goto: no question 'why_low'" in result.output
    ok = run("surveys", "validate", *EXAMPLES)
    assert ok.exit_code == 0 and ok.output.count(": ok (") == 2


def test_load_makes_a_new_version_only_when_content_changes(tmp_path, env):
    assert run("db", "upgrade").exit_code == 0
    first = run("surveys", "load", EXAMPLES[1])
    assert "new version 1" in first.output
    assert "unchanged 1" in run("surveys", "load", EXAMPLES[1]).output
    changed = tmp_path / "weekly.yaml"
    changed.write_text(Path(EXAMPLES[1]).read_text().replace("Anything else you'd like us", "Anything more you'd like us"))
    assert "new version 2" in run("surveys", "load", str(changed)).output
    listing = run("surveys", "list").output
    assert "weekly-checkin" in listing and "v2" in listing and "2 version(s)" in listing


def test_import_is_all_or_nothing_with_a_report(tmp_path, env):
    setup_demo()
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("channel,address,organisation,language,tags\n"
                        "sms,07700 900001,demo,en,youth;tuesday\n"
                        "sms,not a number,demo,,\n"
                        "sms,+447700900003,nosuchorg,,\n"
                        "telegram,123456789,demo,es,\n")
    bad = CliRunner().invoke(main, ["participants", "import", str(csv_file)])
    assert bad.exit_code == 1
    assert "line 3: rejected: address 'not a number'" in bad.output
    assert "line 4: rejected: no organisation with join code 'nosuchorg' (there are: demo)" in bad.output
    assert ("nothing was imported: 2 rejected (without them: 2 created, 0 updated, 0 unchanged)" in bad.output)
    csv_file.write_text("channel,address,organisation,language,tags\nsms,07700 900001,demo,en,youth\n"
                        "telegram,123456789,demo,es,\n")
    good = CliRunner().invoke(main, ["participants", "import", str(csv_file)])
    assert good.exit_code == 0
    assert "imported: 2 created, 0 updated, 0 unchanged, 0 rejected" in good.output
    again = CliRunner().invoke(main, ["participants", "import", str(csv_file)])
    assert again.exit_code == 0 and "imported: 0 created, 0 updated, 2 unchanged, 0 rejected" in again.output
    csv_file.write_text("channel,address,organisation,language,tags\nsms,07700 900001,demo,en,\n"
                        "sms,+447700900001,demo,en,\n")
    dup = CliRunner().invoke(main, ["participants", "import", str(csv_file)])
    assert dup.exit_code == 1 and "line 3: rejected: same number as line 2" in dup.output


def test_participants_add_refuses_numbers_and_languages_that_are_not_real(env):
    setup_demo()
    for number in ("12345", "07700 9001", "+44770090110"):
        result = run("participants", "add", number, "--org", "demo")
        assert result.exit_code == 1 and f"address '{number}': not a valid phone number in GB" in result.output
    result = run("participants", "add", "07700 900001", "--org", "demo", "--language", "xx")
    assert result.exit_code == 1 and "language 'xx': neither Chorus nor a loaded survey is written in it" in result.output
    assert run("participants", "add", "07700 900001", "--org", "demo").output.startswith("enrolled")
    assert run("participants", "add", "07700 900001", "--org", "demo").output.startswith("already enrolled; nothing")


@pytest.mark.parametrize("args, message", [
    (["themes", "list", "--survey", "nosuch"], "no survey 'nosuch' (there are: service-experience, weekly-checkin)"),
    (["themes", "list", "--survey", "weekly"], "no survey 'weekly' (did you mean: weekly-checkin?)"),
    (["export", "answers", "--survey", "weekly-chekin"], "no survey 'weekly-chekin' (did you mean: weekly-checkin?)"),
    (["orgs", "add", "Other", "--code", "other", "--welcome-survey", "nosuch"], "no survey 'nosuch'"),
    (["orgs", "add", "demo partnership", "--code", "demo2"], "organisation name 'demo partnership' is already used"),
    (["waves", "list", "--survey", "service"], "no survey 'service' (did you mean: service-experience?)"),
    (["waves", "send-now", "weekly"], "no survey 'weekly' (did you mean: weekly-checkin?)"),
    (["analysis", "accuracy", "--survey", "nosuch"], "no survey 'nosuch'"),
    (["flags", "list", "--org", "dem"], "no organisation with join code 'dem' (did you mean: demo?)"),
    (["digest", "build", "--org", "demoo"], "no organisation with join code 'demoo' (did you mean: demo?)"),
    (["chat", "--org", "dmo"], "no organisation with join code 'dmo' (did you mean: demo?)"),
    (["participants", "add", "07700 900001", "--org", "Demo1"], "did you mean: demo?"),
])
def test_unknown_ids_are_errors_with_a_did_you_mean(env, args, message):
    setup_demo()
    result = run(*args, input="")
    assert result.exit_code == 1 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_orgs_add_exist_ok_is_quiet_for_the_same_name_and_code(env):
    setup_demo()
    again = run("orgs", "add", "Demo Partnership", "--code", "demo", "--exist-ok")
    assert again.exit_code == 0 and again.output == "Demo Partnership: already present\n"
    other = run("orgs", "add", "Demo Partnership", "--code", "elsewhere", "--exist-ok")
    assert other.exit_code == 1 and "organisation name 'Demo Partnership' is already used (join code demo)" in other.output


def test_piped_chat_is_scriptable_and_export_has_no_addresses(env):
    """The README's example: printf 'JOIN demo\\nyes\\n...' | chorus chat --as +447700900123"""
    setup_demo()
    script = "JOIN demo\nyes\nno\n"
    proc = subprocess.run([CHORUS, "chat", "--as", "+447700900123"], input=script, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("< Demo Partnership would like to send you")
    assert "< Thanks, that's saved." in proc.stdout
    proc = subprocess.run([CHORUS, "chat", "--as", "+447700900123", "--survey", "weekly-checkin"],
                          input="4\nyes\nThe advice line was really helpful\n", capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("< Hi, it's Demo Partnership with our weekly check-in")
    assert lines[-1] == "< Thank you, that really helps. Take care, and speak next week."
    export = run("export", "answers", "--format", "csv").output
    assert "The advice line was really helpful" in export
    assert export.splitlines()[0].endswith(",language,sentiment,sentiment_by_person,participant")
    # tagged when stored; the participant is a pseudonym
    assert re.search(r"^.*The advice line was really helpful,en,positive,,P-[A-Z2-7]{12}$", export, re.M)
    assert "7700900123" not in export


def test_validate_warns_when_a_prompt_costs_more_than_three_sms_segments(tmp_path, env):
    long_prompt = "Tell us about your visit: " + "what went well and what did not, " * 15 + "please?"
    text = (ROOT / "surveys/examples/weekly.yaml").read_text().replace(
        'en: "Anything else you\'d like us to know? Reply SKIP if not."', f'en: "{long_prompt}"')
    survey = tmp_path / "weekly.yaml"
    survey.write_text(text)
    result = run("surveys", "validate", str(survey))
    assert result.exit_code == 0
    assert "weekly.yaml: warning: questions[3].prompt.en: 4 SMS segments as sent (GSM-7" in result.output
    clean = run("surveys", "validate", *EXAMPLES)        # English and Spanish both ship a safeguarding lexicon
    assert "warning" not in clean.output


def test_validate_warns_for_a_language_without_a_safeguarding_lexicon(tmp_path, env, monkeypatch):
    text = (ROOT / "surveys/examples/weekly.yaml").read_text()
    french = tmp_path / "weekly-fr.yaml"
    french.write_text(text.replace("languages: [en, es]", "languages: [en, fr]").replace("\n    es: ", "\n    fr: ")
                      .replace(" es: ", " fr: "))
    warned = run("surveys", "validate", str(french))
    assert warned.exit_code == 0, warned.output
    assert "no safeguarding lexicon for 'fr'" in warned.output
    lexicons = tmp_path / "lexicons"
    lexicons.mkdir()
    (lexicons / "fr.yaml").write_text("risks:\n  suicide:\n    envie_de_mourir:\n      - (je veux/j ai envie de) mourir\n")
    monkeypatch.setenv("SAFEGUARDING_LEXICON_DIR", str(lexicons))
    quiet = run("surveys", "validate", str(french))
    assert quiet.exit_code == 0 and "safeguarding" not in quiet.output
    (lexicons / "fr.yaml").write_text("risks:\n  suicide:\n    envie_de_mourir:\n      - <personne> mourir\n")
    broken = run("surveys", "validate", str(french))
    assert broken.exit_code != 0 and "fr.yaml: risks.suicide.envie_de_mourir[1]" in broken.output


def _chat(env, address, script, survey=None):
    args = [CHORUS, "chat", "--as", address] + (["--survey", survey] if survey else [])
    proc = subprocess.run(args, input=script, capture_output=True, text=True, env={**os.environ, **env}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_flags_labels_retag_and_themes_from_the_command_line(env):
    setup_demo()
    assert "no safeguarding contacts" in run("flags", "contacts", "list").output
    added = run("flags", "contacts", "add", "--org", "demo", "--email", "lead@demo.example")
    assert added.exit_code == 0 and "added: email lead@demo.example for demo" in added.output
    assert "SMTP_HOST is not set" in added.output            # told that email alerts fail, not that they wait
    assert "fails email alerts at once" in added.output and "NOT alerted" in added.output
    assert "wait in the outbox" not in added.output
    assert run("flags", "contacts", "add", "--email", "x@y.example", "--telegram-chat", "1").exit_code == 2
    _chat(env, "+447700900123", "JOIN demo\nyes\nno\n")
    _chat(env, "+447700900123", "4\nyes\ni dont want to be here anymore\n", survey="weekly-checkin")
    _chat(env, "+447700900124", "JOIN demo\nyes\nno\n")
    _chat(env, "+447700900124", "5\nyes\nthe waiting times were long\n", survey="weekly-checkin")
    listing = run("flags", "list").output
    assert "#1" in listing and "Demo Partnership" in listing and "suicide" in listing
    assert "want to be here" not in listing                    # lists never show the words
    shown = run("flags", "show", "1").output
    assert "i dont want to be here anymore" in shown and "why: lexicon layer: suicide." in shown
    refused = run("flags", "close", "1", "--by", "Sam", "--note", " ")
    assert refused.exit_code == 1 and "never closed without a note" in refused.output
    assert "closed by Sam (concern)" in run("flags", "close", "1", "--by", "Sam", "--note", "Called back; safe.").output
    listed = run("flags", "list").output
    assert listed.strip().endswith("no open flags")
    # the only contact is by email and SMTP_HOST is not set here: its alerts fail, so a flag alerts nobody
    assert "no safeguarding contact can be reached (email needs SMTP_HOST" in listed
    assert "closed" in run("flags", "list", "--all").output

    export = run("export", "answers").output.splitlines()
    waiting = next(line for line in export if "waiting times" in line)
    answer_id = waiting.split(",")[0]
    labelled = run("analysis", "label", answer_id, "negative", "--by", "Sam")
    assert labelled.exit_code == 0 and "labelled negative by Sam" in labelled.output
    assert run("analysis", "label", answer_id, "meh", "--by", "Sam").exit_code == 1
    accuracy = run("analysis", "accuracy").output
    assert "compared: 1;" in accuracy and "Cohen's kappa" in accuracy
    assert "safeguarding layers: lexicon (en, es) + similarity (en)" in accuracy
    assert "safeguarding precision on reviewed flags: 100.0% (1 concern, 0 not a concern; 0 open)" in accuracy
    assert "lexicon    suicide.want_to_die" in accuracy
    retag = run("analysis", "retag", "--batch", "1")
    assert retag.exit_code == 0 and "2 of 2 answers re-tagged with" in retag.output
    assert "resumed" in run("analysis", "retag", "--batch", "1").output    # finished: nothing done twice

    themes = run("themes", "list", "--survey", "weekly-checkin").output
    assert "themes in weekly-checkin" in themes
    assert run("themes", "rename", "wait time", "Waiting times").exit_code == 0
    assert "wait time" in run("themes", "aliases").output
    assert run("themes", "merge", "queue", "wait", "--into", "Waiting").exit_code == 0
    assert run("themes", "unalias", "nothing-like-this").exit_code == 1
    assert run("themes", "list", "--survey", "weekly-checkin", "--week", "2026-47").exit_code == 2


def test_every_command_means_the_same_default_week(env, monkeypatch):
    """themes list, digest build and digest send, given no --week, mean one week: the last complete one in the
    partnership's timezone. The clock is fixed through the root context (main(obj={"now": ...}))."""
    monkeypatch.setenv("DIGEST_RECIPIENTS", "board@example.org")
    setup_demo()
    # 23:30 UTC on Sunday 5 July 2026 is 00:30 on Monday 6 July in London: week 27 has just ended.
    now = datetime(2026, 7, 5, 23, 30, tzinfo=timezone.utc)

    def at_now(*args):
        return CliRunner().invoke(main, list(args), obj={"now": now}, catch_exceptions=False)

    themes = at_now("themes", "list", "--survey", "weekly-checkin")
    assert themes.exit_code == 0 and "themes in weekly-checkin, 2026-W27 (Europe/London)" in themes.output
    built = at_now("digest", "build")
    assert built.exit_code == 0 and "digest 2026-W27 (partnership)" in built.output
    sent = at_now("digest", "send")
    assert sent.exit_code == 0 and "digest 2026-W27 queued to 1 recipient(s)" in sent.output
    for command in (["themes", "list"], ["digest", "build"], ["digest", "send"]):
        assert "default: the last complete week" in " ".join(run(*command, "--help").output.split()), command
