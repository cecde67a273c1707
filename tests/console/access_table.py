"""The console's access matrix: for every route, what each persona gets.

Personas: admin, staff (of the organisation `river` the objects belong to), safeguarding (river),
governance, other_org_staff (staff of `youth`), signed_out.

Expected values:
  OK         200
  FORBIDDEN  403
  NOT_FOUND  404 (an object of another organisation may be hidden this way)
  SIGN_IN    a redirect to /console/sign-in
  HOME       a redirect to /console/
  ALLOWED    anything but 403, a redirect to sign-in or a server error (POSTs: the action may succeed,
             redirect or refuse the form; what matters here is that the role got through)

To add a route: add one row to ACCESS keyed by (method, rule as in app.url_map), e.g.
    ("GET", "/console/flags/<int:flag_id>"): per(admin=OK, staff=OK, safeguarding=OK, governance=FORBIDDEN,
                                                  other_org_staff=NOT_FOUND),
and, when the rule has a parameter, say in URL_VALUES which object it names (ids made by the `people`
fixture in conftest.py; extend it for new objects). tests/console/test_access_matrix.py fails for any route
without a row, and for a row whose route no longer exists.
"""
from __future__ import annotations

OK, FORBIDDEN, NOT_FOUND, SIGN_IN, HOME, ALLOWED = 200, 403, 404, "sign-in", "home", "allowed"
PERSONAS = ("admin", "staff", "safeguarding", "governance", "other_org_staff", "signed_out")


def per(signed_out=SIGN_IN, **roles) -> dict:
    missing = set(PERSONAS) - {"signed_out"} - set(roles)
    assert not missing, f"say what {sorted(missing)} get"
    return {**roles, "signed_out": signed_out}


def everyone(value, signed_out=SIGN_IN) -> dict:
    return per(signed_out, **{p: value for p in PERSONAS if p != "signed_out"})


def admin_only(value=OK) -> dict:
    return per(admin=value, staff=FORBIDDEN, safeguarding=FORBIDDEN, governance=FORBIDDEN, other_org_staff=FORBIDDEN)


ACCESS: dict[tuple[str, str], dict] = {
    ("GET", "/"): everyone(HOME, signed_out=SIGN_IN),
    ("GET", "/console/"): everyone(OK),
    ("GET", "/console/sign-in"): everyone(HOME, signed_out=OK),
    ("POST", "/console/sign-in"): everyone(ALLOWED, signed_out=ALLOWED),
    ("GET", "/console/sign-in/two-factor"): everyone(HOME, signed_out=SIGN_IN),
    ("POST", "/console/sign-in/two-factor"): everyone(HOME, signed_out=SIGN_IN),
    ("POST", "/console/sign-out"): everyone(SIGN_IN, signed_out=SIGN_IN),
    ("GET", "/console/account/password"): everyone(OK),
    ("POST", "/console/account/password"): everyone(ALLOWED),
    ("GET", "/console/account/two-factor"): everyone(OK),
    ("POST", "/console/account/two-factor"): everyone(ALLOWED),
    ("POST", "/console/account/two-factor/recovery-codes"): everyone(ALLOWED),
    ("POST", "/console/account/two-factor/remove"): everyone(ALLOWED),
    ("GET", "/console/users"): admin_only(),
    ("GET", "/console/users/new"): admin_only(),
    ("POST", "/console/users/new"): admin_only(ALLOWED),
    ("GET", "/console/users/<int:user_id>"): admin_only(),
    ("POST", "/console/users/<int:user_id>"): admin_only(ALLOWED),
    ("POST", "/console/users/<int:user_id>/disable"): admin_only(ALLOWED),
    ("POST", "/console/users/<int:user_id>/enable"): admin_only(ALLOWED),
    ("POST", "/console/users/<int:user_id>/reset-password"): admin_only(ALLOWED),
    ("POST", "/console/users/<int:user_id>/reset-two-factor"): admin_only(ALLOWED),
    ("GET", "/console/audit"): admin_only(),
    ("GET", "/console/retention"): admin_only(),
    ("GET", "/console/erasures"): admin_only(),
    ("GET", "/console/settings"): admin_only(),
    ("POST", "/console/settings"): admin_only(ALLOWED),
    # participants and flags (pages-a): `participant` and `flag` belong to river
    ("GET", "/console/participants"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN, governance=FORBIDDEN,
                                          other_org_staff=OK),
    ("GET", "/console/participants/new"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN, governance=FORBIDDEN,
                                              other_org_staff=OK),
    ("POST", "/console/participants/new"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN,
                                               governance=FORBIDDEN, other_org_staff=ALLOWED),
    ("GET", "/console/participants/import"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN, governance=FORBIDDEN,
                                                 other_org_staff=OK),
    ("POST", "/console/participants/import"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN,
                                                  governance=FORBIDDEN, other_org_staff=ALLOWED),
    ("POST", "/console/participants/import/confirm"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN,
                                                          governance=FORBIDDEN, other_org_staff=ALLOWED),
    ("GET", "/console/participants/<int:contact_id>"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN,
                                                           governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    **{("GET", f"/console/participants/<int:contact_id>/data.{ext}"): per(
        admin=OK, staff=OK, safeguarding=FORBIDDEN, governance=FORBIDDEN, other_org_staff=FORBIDDEN)
       for ext in ("json", "txt")},
    ("GET", "/console/participants/<int:contact_id>/erase"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN,
                                                                 governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("POST", "/console/participants/<int:contact_id>/erase"): per(admin=ALLOWED, staff=ALLOWED,
                                                                  safeguarding=FORBIDDEN, governance=FORBIDDEN,
                                                                  other_org_staff=FORBIDDEN),
    ("GET", "/console/flags"): per(admin=OK, staff=OK, safeguarding=OK, governance=FORBIDDEN, other_org_staff=OK),
    ("GET", "/console/flags/<int:flag_id>"): per(admin=OK, staff=OK, safeguarding=OK, governance=FORBIDDEN,
                                                 other_org_staff=FORBIDDEN),
    ("POST", "/console/flags/<int:flag_id>/assign"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=ALLOWED,
                                                         governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("POST", "/console/flags/<int:flag_id>/note"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=ALLOWED,
                                                       governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("POST", "/console/flags/<int:flag_id>/close"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=ALLOWED,
                                                        governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    # pages-b: dashboard, responses, exports, digests, waves
    ("GET", "/console/dashboard"): everyone(OK),
    ("GET", "/console/responses"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN, governance=OK, other_org_staff=OK),
    ("POST", "/console/responses/answers/<int:answer_id>/sentiment"): per(
        admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN, governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("POST", "/console/responses/themes"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN,
                                                governance=FORBIDDEN, other_org_staff=ALLOWED),
    ("POST", "/console/responses/export"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN,
                                                governance=FORBIDDEN, other_org_staff=ALLOWED),
    ("GET", "/console/exports/<int:job_id>"): per(admin=FORBIDDEN, staff=OK, safeguarding=FORBIDDEN,
                                                   governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("GET", "/console/exports/<int:job_id>/download"): per(admin=FORBIDDEN, staff=ALLOWED, safeguarding=FORBIDDEN,
                                                            governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    # the action register (issue 16): everyone reads it; admin and the action's organisation's staff change it
    ("GET", "/console/actions"): everyone(OK),
    ("GET", "/console/actions/new"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN, governance=FORBIDDEN,
                                         other_org_staff=OK),
    ("POST", "/console/actions/new"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN, governance=FORBIDDEN,
                                          other_org_staff=ALLOWED),
    ("GET", "/console/actions/<int:action_id>"): everyone(OK),
    ("GET", "/console/actions/<int:action_id>/edit"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN,
                                                          governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("POST", "/console/actions/<int:action_id>/edit"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN,
                                                           governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("POST", "/console/actions/<int:action_id>/status"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN,
                                                             governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("GET", "/console/actions/<int:action_id>/publish"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN,
                                                             governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("POST", "/console/actions/<int:action_id>/publish"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN,
                                                              governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("GET", "/console/digests"): everyone(OK),
    ("GET", "/console/digests/preview"): everyone(OK),
    ("GET", "/console/digests/send"): admin_only(),
    ("POST", "/console/digests/send"): admin_only(ALLOWED),
    ("GET", "/console/digests/<week>/<archive_scope>"): everyone(OK),
    ("GET", "/console/waves"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN, governance=FORBIDDEN,
                                   other_org_staff=OK),
    ("POST", "/console/waves/send"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN, governance=FORBIDDEN,
                                         other_org_staff=ALLOWED),
    ("GET", "/console/waves/<int:wave_id>"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN, governance=FORBIDDEN,
                                                 other_org_staff=FORBIDDEN),
    ("GET", "/console/waves/<int:wave_id>/cancel"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN,
                                                        governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("POST", "/console/waves/<int:wave_id>/cancel"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN,
                                                         governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    # the send preview (issue 15): the page, and its button that makes the wave previewed
    ("GET", "/console/waves/preview"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN, governance=FORBIDDEN,
                                           other_org_staff=OK),
    ("POST", "/console/waves/preview"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN,
                                            governance=FORBIDDEN, other_org_staff=ALLOWED),
    # the survey simulator (admin and organisation staff; a sandbox, river's survey: youth staff get 403)
    ("GET", "/console/surveys/<survey_id>/simulate"): per(admin=OK, staff=OK, safeguarding=FORBIDDEN,
                                                          governance=FORBIDDEN, other_org_staff=FORBIDDEN),
    ("POST", "/console/surveys/<survey_id>/simulate"): per(admin=ALLOWED, staff=ALLOWED, safeguarding=FORBIDDEN,
                                                           governance=FORBIDDEN, other_org_staff=FORBIDDEN),
}

# Which object a URL parameter names, from the `people` fixture's ids.
# surveys: the designer (surveys of river's; staff of other organisations get 403 from the operation)
DESIGNERS = dict(admin=OK, staff=OK, safeguarding=FORBIDDEN, governance=FORBIDDEN, other_org_staff=OK)
ACCESS.update({
    ("GET", "/console/surveys"): per(**DESIGNERS),
    ("POST", "/console/surveys/new"): per(**{**DESIGNERS, "admin": ALLOWED, "staff": ALLOWED, "other_org_staff": ALLOWED}),
    ("POST", "/console/surveys/import"): per(**{**DESIGNERS, "admin": ALLOWED, "staff": ALLOWED,
                                                "other_org_staff": ALLOWED}),
    **{("GET", rule): per(**{**DESIGNERS, "other_org_staff": FORBIDDEN}) for rule in (
        "/console/surveys/<survey_id>", "/console/surveys/<survey_id>/discard", "/console/surveys/<survey_id>/versions",
        "/console/surveys/<survey_id>/versions/<int:number>.yaml")},
    ("GET", "/console/surveys/<survey_id>/diff"): per(**{**DESIGNERS, "admin": ALLOWED, "staff": ALLOWED,
                                                          "other_org_staff": FORBIDDEN}),
    **{("POST", rule): per(**{**DESIGNERS, "admin": ALLOWED, "staff": ALLOWED, "other_org_staff": FORBIDDEN}) for rule in (
        "/console/surveys/<survey_id>/check", "/console/surveys/<survey_id>/draft", "/console/surveys/<survey_id>/form", "/console/surveys/<survey_id>/form-yaml", "/console/surveys/<survey_id>/publish",
        "/console/surveys/<survey_id>/discard", "/console/surveys/<survey_id>/duplicate")},
})

URL_VALUES = {
    "user_id": "user_id",
    "contact_id": "participant",     # pages-a
    "flag_id": "flag",               # pages-a
    # pages-b
    "answer_id": "answer_id", "job_id": "job_id", "wave_id": "wave_id", "week": "week", "archive_scope": "archive_scope",
    "survey_id": "survey_id", "number": "number",       # surveys
    "action_id": "action_id",                            # actions
}
