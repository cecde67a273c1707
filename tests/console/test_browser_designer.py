"""The survey designer in a real browser (see test_browser.py for the set-up): staff make a survey, build it in the
form with two languages and a branch, see the YAML follow, break it and see the message at the field, fix it in
the YAML editor and see the form follow, then publish it and compare the versions. axe checks every page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from surveys.loader import load_survey_text
from tests.console.test_browser import browser, check_page, page, server, sign_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_build_a_survey_with_a_branch_in_two_languages_then_publish(page, server):  # noqa: F811
    sign_in(page, server, "staff")
    page.wait_for_url("**/console/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Surveys").click()
    check_page(page, "designer-list")
    page.get_by_label("Survey id").fill("river-check")
    page.get_by_label("Title").fill("River check-in")
    page.get_by_label("Whose survey").first.select_option("river")
    page.get_by_role("button", name="Make a draft").click()
    page.wait_for_url("**/console/surveys/river-check")
    assert "No problems: 2 questions in en." in page.locator("#design-check").inner_text()

    # the form: a second language; saved, the Spanish fields are empty and each says so next to it
    page.get_by_label("Languages", exact=True).fill("en, es")
    page.get_by_role("button", name="Save the form as the draft").click()
    assert page.locator("#f-q0\\.prompt\\.es-error").inner_text() == "missing translation for 'es'"
    assert page.locator("#f-intro\\.es").get_attribute("aria-invalid") == "true"
    check_page(page, "designer-form-errors")
    for name, text in (("intro.es", "Hola de {org}. Unas preguntas; responde SALTAR para saltar."),
                       ("q0.prompt.es", "¿Qué tal su visita, de 1 (mal) a 5 (muy bien)?"),
                       ("q0.min_label.es", "Mal"), ("q0.max_label.es", "Muy bien"),
                       ("q1.prompt.es", "¿Qué podríamos mejorar?"), ("outro.es", "Gracias.")):
        page.locator(f"#f-{name.replace('.', chr(92) + '.')}").fill(text)
    # a branch: a low score (2 or less) goes to the 'why' question, otherwise the survey ends
    page.get_by_label("Rule 1: when the answer (q0)").select_option("lte")
    page.get_by_label("Rule 1 value (q0)").fill("2")
    page.get_by_label("Rule 1 goes to (q0)").fill("why")
    page.get_by_label("Rule 2: when the answer (q0)").select_option("")
    page.get_by_label("Rule 2 goes to (q0)").fill("end")
    page.get_by_label("Title", exact=True).click()          # leaving the field: its change reaches the YAML
    expect(page.get_by_label("YAML (river-check.yaml)")).to_have_value(re.compile(r"lte: 2\s+goto: why"))
    expect(page.locator("#design-check")).to_contain_text("No problems: 2 questions in en, es.")
    assert _draft_has(page, server, "lte") is False                 # followed live, not saved yet
    page.get_by_role("button", name="Save the form as the draft").click()
    page.wait_for_url("**/console/surveys/river-check")
    assert "Draft saved from the form." in page.content()
    text = page.get_by_label("YAML (river-check.yaml)").input_value()          # the YAML followed the form
    survey = load_survey_text(text, "river-check.yaml")
    assert survey.languages == ("en", "es") and survey.questions[0].prompt["es"].startswith("¿Qué tal")
    assert [(r.when and r.when.to_dict(), r.goto) for r in survey.questions[0].next] == [({"lte": 2}, "why"), (None, "end")]

    # break it in the YAML editor: the check as you type says so, in the words of `chorus surveys validate`
    editor = page.get_by_label("YAML (river-check.yaml)")
    editor.fill(text.replace("goto: why", "goto: wyh"))
    page.locator("#design-check").get_by_text("no question 'wyh'").wait_for()
    assert "did you mean 'why'?" in page.locator("#design-check").inner_text()
    assert page.locator("#f-q0\\.r0\\.goto-error").inner_text().startswith("no question 'wyh'")  # and at its field
    editor.fill(text.replace("Gracias.", "Muchas gracias."))                     # fix it, change a text ...
    expect(page.locator("#f-outro\\.es")).to_have_value("Muchas gracias.")    # ... and the form follows as you type
    page.get_by_role("button", name="Save draft").click()
    assert page.locator("#f-outro\\.es").input_value() == "Muchas gracias."
    check_page(page, "designer-draft")

    page.get_by_role("button", name="Save and publish").click()
    page.wait_for_url("**/console/surveys/river-check/versions")
    assert "Published river-check as version 1" in page.content()
    check_page(page, "designer-versions")


def _draft_has(page, server, words: str) -> bool:  # noqa: F811
    """Whether the saved draft (a fresh page load, the same signed-in browser) holds `words` in its YAML."""
    other = page.context.new_page()
    try:
        other.goto(server + "/console/surveys/river-check")
        return words in other.get_by_label("YAML (river-check.yaml)").input_value()
    finally:
        other.close()
