"""The daily statistics job's pure core: one pass over every profile, then the stored statistics.

While the scan streams, each profile feeds the population statistics (RFM cut points, VIP spend,
median gap: a few floats per buyer) and the churn refit's two bounded samples
(:mod:`retention.churn_fit`). After the pass the churn weights are fitted on the shop's own
history (or the shipped ones kept) and the percentiles of churn risk among buyers not yet
lapsed are computed under the weights in force, with the same gap prior every event uses.

Imported by ``functions/segment_stats`` only (it pulls in numpy through the fit).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from retention import churn_fit
from retention.models.profile import CustomerProfile
from retention.models.segments import PopulationStats, SegmentDefinitions
from retention.segments import StatsInputs, stats_from_inputs


@dataclass
class DailyInputs:
    population: StatsInputs
    churn: churn_fit.ChurnInputs

    def merge(self, other: DailyInputs) -> DailyInputs:
        return DailyInputs(self.population.merge(other.population), self.churn.merge(other.churn))


def collect(profiles: Iterable[CustomerProfile], as_of: datetime, definitions: SegmentDefinitions) -> DailyInputs:
    """Reduce ``profiles`` (one scan segment) as they are read; memory does not grow with samples."""
    inputs = DailyInputs(StatsInputs(), churn_fit.ChurnInputs(as_of, definitions.churn_model))
    for profile in profiles:
        inputs.population.add(profile, as_of)
        inputs.churn.add(profile)
    return inputs


def compute(
    inputs: DailyInputs, as_of: datetime, definitions: SegmentDefinitions
) -> tuple[PopulationStats, churn_fit.Refit]:
    """The statistics to store, and the refit's outcome (for the job's log)."""
    population = stats_from_inputs(inputs.population, as_of)
    refit = churn_fit.refit(inputs.churn, float(definitions.inactivity.default_gap_days))
    in_force = refit.model or definitions.churn_model.shipped()
    percentiles = churn_fit.risk_percentiles(
        inputs.churn.current.items(),
        in_force,
        churn_fit.Population(population.median_gap_days, population.median_order_value),
        definitions.churn_model.percentiles_below_overdue_ratio,
    )
    stats = population.model_copy(
        update={
            "churn_model": refit.model,
            "churn_training_rows": refit.rows if refit.model else 0,
            "churn_risk_percentiles": percentiles,
        }
    )
    return stats, refit
