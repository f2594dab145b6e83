"""Net Promoter Score: groups, the score and its interval, checked against a hand-worked example."""

from __future__ import annotations

import pytest

from retention import nps
from retention.mail.catalog import TemplateEntry


def test_the_hand_worked_example():
    # Given 10 scores: 5 promoters (9, 10), 3 passives (7, 8), 2 detractors (0-6)
    counts = {"score_10": 3, "score_9": 2, "score_8": 2, "score_7": 1, "score_6": 1, "score_0": 1}
    summary = nps.summarise(counts)
    # Then NPS = 50 % - 20 % = +30
    assert (summary.promoters, summary.passives, summary.detractors, summary.total) == (5, 3, 2, 10)
    assert summary.score == pytest.approx(30.0)
    # And its 95 % interval: var = (0.5 + 0.2 - 0.3²) / 10 = 0.061, half-width 1.96 · √0.061 · 100 = 48.4
    assert summary.interval == (pytest.approx(-18.41, abs=0.01), pytest.approx(78.41, abs=0.01))


def test_the_interval_is_clipped_to_the_scale():
    all_promoters = nps.summarise({"score_10": 4, "score_9": 1, "score_6": 0})
    assert all_promoters.score == 100.0
    assert all_promoters.interval == (100.0, 100.0)  # no spread in the sample: var = 0
    mostly = nps.summarise({"score_10": 3, "score_0": 1})
    assert mostly.interval is not None and mostly.interval[1] == 100.0 and mostly.interval[0] > -100.0


def test_without_scores_there_is_no_score():
    empty = nps.summarise({"price": 3})
    assert (empty.total, empty.score, empty.interval) == (0, None, None)


@pytest.mark.parametrize(
    ("score", "group"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_the_groups(score: int, group: str):
    assert nps.group_of(score) == group


def test_answers_that_are_scores():
    assert nps.score_of("score_10") == 10 and nps.score_of("score_0") == 0
    assert nps.score_of("score_11") is None and nps.score_of("price") is None and nps.score_of("score_x") is None
    assert nps.is_survey([f"score_{n}" for n in range(11)])
    assert not nps.is_survey([f"score_{n}" for n in range(10)])


def test_an_nps_survey_in_emails_yaml_lists_all_eleven_scores_in_order():
    entry = {"kind": "feedback", "description": "NPS", "audience": ["active"]}
    TemplateEntry.model_validate({**entry, "answers": list(nps.SCORE_ANSWERS)})
    for broken in (list(nps.SCORE_ANSWERS)[::-1], ["score_0", "score_1"], ["price", "score_9"]):
        with pytest.raises(ValueError, match="score_0 … score_10"):
            TemplateEntry.model_validate({**entry, "answers": broken})


def test_an_nps_event_names_the_group_of_its_score():
    from retention.models.engine_events import NpsAnsweredDetail

    fields = {"customer_id": "C1", "message_id": "m1", "journey": "nps", "answered_at": "2026-05-01T10:00:00Z"}
    assert NpsAnsweredDetail.model_validate({**fields, "score": 9, "group": "promoter"}).group == "promoter"
    with pytest.raises(ValueError, match="a score of 2 is a detractor, not a promoter"):
        NpsAnsweredDetail.model_validate({**fields, "score": 2, "group": "promoter"})
    with pytest.raises(ValueError):
        NpsAnsweredDetail.model_validate({**fields, "score": 9, "group": "promoter", "journey": "x" * 5000})
