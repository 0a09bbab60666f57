"""A job's verdict against its baselines: each ``Versus`` compares one headline metric with a
baseline the job also measures (the base-rate model, a fitted Gaussian, independent pixels) or a
fixed target (class coverage), and says in one line whether the model beat it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Versus:
    """``metric`` against ``against`` (a metrics key, or a fixed number: a target) named
    ``name`` ("the base-rate model", "the target"); ``unit`` follows the numbers; ``higher_is_better`` (log-likelihoods) or not
    (distances)."""

    metric: str
    against: str | float
    name: str
    unit: str = ""
    higher_is_better: bool = True

    def verdict(self, metrics: dict) -> tuple[bool, str] | None:
        """(beaten, line), e.g. (True, "test_log_likelihood -18.7 nats: 6.6 better than the
        base-rate model (-25.3)"); None where the run has no such metric."""
        value = metrics.get(self.metric)
        reference = metrics.get(self.against) if isinstance(self.against, str) else self.against
        if not isinstance(value, float) or not isinstance(reference, (int, float)):
            return None
        margin = value - reference if self.higher_is_better else reference - value
        beaten = margin >= 0
        unit = f" {self.unit}" if self.unit else ""
        if not isinstance(self.against, str):
            bound = "≥" if self.higher_is_better else "≤"
            return beaten, (f"{self.metric} {value:.4g}{unit}: {'meets' if beaten else 'misses'} "
                            f"{self.name} {bound} {reference:.3g}")
        return beaten, (f"{self.metric} {value:.4g}{unit}: {abs(margin):.3g} "
                        f"{'better' if beaten else 'worse'} than {self.name} ({reference:.4g})")


def verdicts(checks, metrics: dict) -> list[str]:
    """The lines of every check that applies, a failed one led by 'WARNING:'."""
    lines = []
    for check in checks:
        outcome = check.verdict(metrics)
        if outcome is not None:
            lines.append(outcome[1] if outcome[0] else f"WARNING: {outcome[1]}")
    return lines


def coverage_target(bound: float, metric: str = "class_coverage_tv") -> Versus:
    """The samples' class-histogram TV (a classifier fitted to the real training digits labels
    them) against its target ``bound``."""
    return Versus(metric, bound, "the target", higher_is_better=False)
