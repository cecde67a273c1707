"""Console forms (Flask-WTF: each carries its CSRF token). Errors from a staff operation land next to the
field they are about (`show_error`), in the same words the command line prints."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, PasswordField, RadioField, SelectField, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from surveys.scope import ROLE_LABELS, ROLES


class ActionForm(FlaskForm):
    """A button that changes something (sign out, disable, ...): only the CSRF token."""


class SignInForm(FlaskForm):
    username = StringField("Username", validators=[InputRequired("Type your username.")],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField("Password", validators=[InputRequired("Type your password.")],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[InputRequired("Type the code.")],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired("Type your current password.")],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", validators=[InputRequired("Type a new password.")],
                                 description="At least 12 characters; a few words you will remember work well.",
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("New password again",
                            validators=[InputRequired("Type the new password again."),
                                        EqualTo("new_password", "The two new passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


class PasswordForm(FlaskForm):
    password = PasswordField("Your password", validators=[InputRequired("Type your password.")],
                             render_kw={"autocomplete": "current-password"})


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


ROLE_CHOICES = [SelectChoice(r, ROLE_LABELS[r]) for r in ROLES]


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[InputRequired()])
    organisations = CheckboxesField("Organisations", choices=[], validate_choice=True,
                                    description="Staff and safeguarding leads cover at least one; admins cover all; "
                                                "governance viewers see the partnership's aggregates only.")


class AddUserForm(RoleForm):
    username = StringField("Username", validators=[InputRequired("Type a username."), Length(max=64)],
                           description="1-64 of a-z 0-9 . _ @ -", render_kw={"autocapitalize": "none", "spellcheck": "false"})
    display_name = StringField("Name", validators=[Optional(), Length(max=200)])
    email = StringField("Email (optional)", validators=[Optional(), Length(max=254)], render_kw={"type": "email"})


class SettingsForm(FlaskForm):
    require_two_factor = BooleanField("Require two-factor sign-in for everyone",
                                      description="Everyone without an app set up is asked to set one up at their "
                                                  "next sign-in.")


def show_error(form: FlaskForm, exc: Exception) -> None:
    """Put an operation's error next to its field (AccountError.field), or above the form."""
    field = getattr(exc, "field", None)
    if field and field in form._fields:
        form[field].errors = [*form[field].errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


class WavePreviewForm(FlaskForm):
    """What to preview (a GET form: it changes nothing, so it carries no CSRF token)."""
    class Meta:
        csrf = False

    survey = SelectField("Survey", validators=[InputRequired("Choose a survey.")])
    at = StringField("When (UTC)", validators=[Optional()],
                     description="Empty: now. Or a later time, like 2026-11-30 10:00, to see a scheduled wave.",
                     render_kw={"autocomplete": "off", "spellcheck": "false"})


class WaveFromPreviewForm(FlaskForm):
    """The preview's button: makes the wave previewed, if the audience is still what it counted."""
    survey = HiddenField(validators=[InputRequired()])
    at = HiddenField(validators=[InputRequired()])
    expect = HiddenField(validators=[InputRequired()])


class ActionRecordForm(FlaskForm):
    """An action of the register: what was heard, what is done, who owns it, what it is about, whom it tells.
    Errors of `analysis.actions` land next to the field they name ("heard: ...")."""
    heard = TextAreaField("You said (what people told you)", validators=[InputRequired("Say what people said.")],
                          description="In their terms, e.g. \u201cthe waiting room is cold\u201d.")
    doing = TextAreaField("We did (what you are doing about it)",
                          validators=[InputRequired("Say what is being done about it.")])
    owner = StringField("Owner", validators=[InputRequired("Name the person responsible.")])
    status = SelectField("Status")
    why_not = TextAreaField("Why it can't be done", description="Needed when the status is \u201ccan't do\u201d.")
    org = SelectField("Organisation")
    survey = SelectField("Survey", validators=[Optional()])
    question = StringField("Question (its key, optional)", validators=[Optional(), Length(max=64)])
    theme = StringField("Theme (as the responses page names it, optional)", validators=[Optional(), Length(max=100)])
    since = DateField("Answers from (optional)", validators=[Optional()])
    until = DateField("Answers until (exclusive, optional)", validators=[Optional()])
    audience = RadioField("Who hears back", choices=[
        SelectChoice("raised", "The people who raised it (their answers match the survey, question, theme and period)"),
        SelectChoice("cohort", "A cohort of the organisation's people")], default="raised")
    cohort_tag = StringField("Cohort tag (empty: everyone in the organisation)", validators=[Optional(), Length(max=64)])
    due_on = DateField("Due (optional)", validators=[Optional()])


class ActionStatusForm(FlaskForm):
    status = SelectField("New status")
    why_not = TextAreaField("Why it can't be done", description="Needed for \u201ccan't do\u201d.")
    note = TextAreaField("Note (optional)")
