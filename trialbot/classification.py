"""What the classifier says about a trial, as the other layers exchange it.

The verdict type lives in the core because storage keeps it, jobs produce it and the bot
words it; the rules that produce it live in `jobs.classify`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast, get_args

StemCellTier = Literal["core", "borderline", "excluded"]
StrokeBucket = Literal[
    "ischemic", "intracerebral_hemorrhage", "subarachnoid_hemorrhage", "stroke_unspecified"
]
StrokePhase = Literal["acute", "subacute", "chronic", "mixed", "unspecified"]

TIERS: tuple[str, ...] = get_args(StemCellTier)
BUCKETS: tuple[str, ...] = get_args(StrokeBucket)
PHASES: tuple[str, ...] = get_args(StrokePhase)


@dataclass(frozen=True)
class Classification:
    """The verdict on one trial, with the reasons a reviewer needs to check it."""

    tier: StemCellTier
    buckets: tuple[StrokeBucket, ...]
    stroke_phase: StrokePhase
    reasons: tuple[str, ...]

    @property
    def relevant(self) -> bool:
        """Alert-worthy: some stem-cell(-adjacent) treatment and a stroke it is meant for."""
        return self.tier != "excluded" and bool(self.buckets)

    def to_json(self) -> dict[str, object]:
        return {
            "tier": self.tier,
            "buckets": list(self.buckets),
            "stroke_phase": self.stroke_phase,
            "reasons": list(self.reasons),
            "relevant": self.relevant,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Classification:
        """Inverse of `to_json`; raises ValueError on anything that did not come from it."""
        tier, phase = data.get("tier"), data.get("stroke_phase")
        buckets, reasons = data.get("buckets"), data.get("reasons")
        if tier not in TIERS:
            raise ValueError(f"bad tier {tier!r}")
        if phase not in PHASES:
            raise ValueError(f"bad stroke_phase {phase!r}")
        if not isinstance(buckets, list) or any(b not in BUCKETS for b in buckets):
            raise ValueError(f"bad buckets {buckets!r}")
        if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
            raise ValueError(f"bad reasons {reasons!r}")
        return cls(
            tier=cast(StemCellTier, tier),
            buckets=tuple(sorted(cast(list[StrokeBucket], buckets))),
            stroke_phase=cast(StrokePhase, phase),
            reasons=tuple(cast(list[str], reasons)),
        )
