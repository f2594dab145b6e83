"""The statistics behind the report, small enough to check by hand (no SciPy in the layer).

* Retention rate for a period, (A − B) / C × 100 %: A customers at the end, B new customers
  acquired during the period, C customers at the start (DOMAIN.md).
* Two-proportion z-test (pooled) for A/B variants, two-sided p from the normal distribution.
* Wilson score intervals and Newcombe's hybrid interval for a difference of two proportions:
  well-behaved for small groups and rates near 0, which hold-out groups of 10 % always are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


def retention_rate(at_end: int, new: int, at_start: int) -> float | None:
    """(A − B) / C × 100; None when there were no customers at the start."""
    if at_start <= 0:
        return None
    return (at_end - new) / at_start * 100


def normal_two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


@dataclass(frozen=True)
class ProportionTest:
    rate_a: float
    rate_b: float
    z: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05


def two_proportion_test(successes_a: int, n_a: int, successes_b: int, n_b: int) -> ProportionTest | None:
    """Pooled two-proportion z-test; None if either group is empty."""
    if n_a <= 0 or n_b <= 0:
        return None
    rate_a, rate_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z = 0.0 if spread == 0 else (rate_a - rate_b) / spread
    return ProportionTest(rate_a, rate_b, z, normal_two_sided_p(z) if spread else 1.0)


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    if n <= 0:
        return (0.0, 1.0)
    rate = successes / n
    denominator = 1 + z * z / n
    centre = (rate + z * z / (2 * n)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def difference_interval(
    successes_a: int, n_a: int, successes_b: int, n_b: int, z: float = Z95
) -> tuple[float, float] | None:
    """95 % interval for rate_a − rate_b (Newcombe 1998, method 10); None if a group is empty."""
    if n_a <= 0 or n_b <= 0:
        return None
    rate_a, rate_b = successes_a / n_a, successes_b / n_b
    low_a, high_a = wilson(successes_a, n_a, z)
    low_b, high_b = wilson(successes_b, n_b, z)
    difference = rate_a - rate_b
    low = difference - math.sqrt((rate_a - low_a) ** 2 + (high_b - rate_b) ** 2)
    high = difference + math.sqrt((high_a - rate_a) ** 2 + (rate_b - low_b) ** 2)
    return (low, high)
