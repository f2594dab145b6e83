"""Net Promoter Score: the 0–10 question "how likely are you to recommend us?", asked by email.

An NPS survey is a feedback template whose one-click answers are exactly ``score_0`` …
``score_10`` (emails.yaml), so the tracking API records a score like any other answer and the
report reads the scores from the same per-step answer counters. The groups are the standard
ones: 9–10 promoters (referral candidates), 7–8 passives, 0–6 detractors (no promotions for a
while: someone unhappy is not sold to). NPS = % promoters − % detractors, from −100 to +100.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

SCORES = tuple(range(11))
SCORE_ANSWERS = tuple(f"score_{score}" for score in SCORES)
"""The answers of an NPS survey, in the order its links are signed (a link names its index)."""
_SCORE = re.compile(r"^score_(\d{1,2})$")
Z95 = 1.959963984540054

NpsGroup = Literal["promoter", "passive", "detractor"]
NPS_GROUPS: tuple[NpsGroup, ...] = ("promoter", "passive", "detractor")


def is_survey(answers: Sequence[str]) -> bool:
    """Whether a feedback template with these answers is an NPS survey."""
    return tuple(answers) == SCORE_ANSWERS


def score_of(answer: str) -> int | None:
    """The score an NPS answer id names (``score_9`` → 9), None for any other answer."""
    found = _SCORE.match(answer)
    return int(found.group(1)) if found and int(found.group(1)) in SCORES else None


def group_of(score: int) -> NpsGroup:
    """The standard NPS groups: what a journey's trigger (``nps_group``) and entry filter see."""
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS score is 0 to 10, not {score}")
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


@dataclass(frozen=True)
class NpsSummary:
    """Promoters, passives and detractors among ``total`` answers, and the score with its interval."""

    promoters: int
    passives: int
    detractors: int

    @property
    def total(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """% promoters − % detractors; None without answers."""
        if not self.total:
            return None
        return (self.promoters - self.detractors) / self.total * 100

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95 % interval of the score (normal approximation of a difference of two shares of
        one multinomial sample: var = (pP + pD − (pP − pD)²) / n), clipped to −100…+100."""
        if not self.total:
            return None
        share_p, share_d = self.promoters / self.total, self.detractors / self.total
        variance = (share_p + share_d - (share_p - share_d) ** 2) / self.total
        half = Z95 * math.sqrt(variance) * 100
        centre = (share_p - share_d) * 100
        return max(-100.0, centre - half), min(100.0, centre + half)

    @property
    def score_text(self) -> str | None:
        """``+30 (95 % interval -18 to +78)``: how the report and the demo summary print it."""
        if self.score is None or self.interval is None:
            return None
        low, high = self.interval
        return f"{self.score:+.0f} (95 % interval {low:+.0f} to {high:+.0f})"

    def as_dict(self) -> dict[str, object]:
        return {
            "answers": self.total,
            "promoters": self.promoters,
            "passives": self.passives,
            "detractors": self.detractors,
            "nps": self.score,
            "interval_95": list(self.interval) if self.interval else None,
        }


def summarise(answer_counts: Mapping[str, int]) -> NpsSummary:
    """The NPS of answer counts keyed by answer id (``score_9``: 12); other answers are ignored."""
    groups = {"promoter": 0, "passive": 0, "detractor": 0}
    for answer, count in answer_counts.items():
        score = score_of(answer)
        if score is not None:
            groups[group_of(score)] += int(count)
    return NpsSummary(groups["promoter"], groups["passive"], groups["detractor"])
