"""Waves as the console sees them (surveys.waves, scoped): list, show, cancel, send now, on both databases."""
from __future__ import annotations

import pytest

from surveys import waves as wv
from surveys.scope import Forbidden, Scope
from tests.console_data import partnership, staff


@pytest.fixture
def data(db, now):
    return partnership(db, now)


def test_staff_see_the_waves_that_invited_their_people_and_act_only_on_their_own(db, now, data):
    everyone = wv.waves_for(db, Scope.operator())
    assert len(everyone) == 2
    mixed, pantry_only = everyone[0].id, everyone[1].id     # newest first: last week's has both organisations
    assert [w.id for w in wv.waves_for(db, staff(data, "PANTRY"))] == [mixed, pantry_only]
    assert [w.id for w in wv.waves_for(db, staff(data, "HOUSING"))] == [mixed]
    assert wv.waves_for(db, staff(data, "HOUSING"))[0].counts["invited"] == 9
    detail = wv.wave_detail(db, staff(data, "HOUSING"), mixed, now)
    assert detail.wave.counts == everyone[0].counts and detail.skipped == {}
    with pytest.raises(Forbidden, match="not of your organisations"):
        wv.wave_detail(db, staff(data, "HOUSING"), pantry_only, now)
    with pytest.raises(Forbidden, match="other organisations too"):
        wv.cancel_wave_as(db, staff(data, "PANTRY"), mixed, now)
    assert wv.cancel_wave_as(db, staff(data, "PANTRY"), pantry_only, now) == 0
    assert wv.waves_for(db, Scope.operator())[1].status == "cancelled"
    for scope in (Scope("governance"), staff(data, "PANTRY", "safeguarding")):
        with pytest.raises(Forbidden):
            wv.waves_for(db, scope)
        with pytest.raises(Forbidden):
            wv.wave_detail(db, scope, mixed, now)
    with pytest.raises(wv.WaveError, match="no wave 999"):
        wv.wave_detail(db, Scope.operator(), 999, now)


def test_send_now_is_for_a_scope_covering_the_surveys_whole_audience(db, now, data):
    with pytest.raises(Forbidden, match="a backbone admin sends it"):
        wv.send_wave_now(db, staff(data, "PANTRY"), "pantry", now)
    both = Scope("staff", frozenset(data.orgs.values()), 3, "both")
    result = wv.send_wave_now(db, both, "pantry", now)
    assert result.created and result.invited + sum(result.skipped.values()) == 14
    with pytest.raises(wv.WaveError, match="no survey"):
        wv.send_wave_now(db, Scope.operator(), "nope", now)
