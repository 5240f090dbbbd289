"""What a trial record states about the things a reader decides on, each with its evidence.

The facts are read once from the (merged) trial by `jobs.facts`, stored with each version and
diffed like the record's own fields; alerts, `/trial`, digests and `trialbot show` say only
what is here. A fact the record does not state clearly is None (or an empty tuple), and its
evidence says "not stated": the alert then says less, never a guess.

Key names, value sets and units follow the hand-checked labels the extractor is tested
against (`tests/fixtures/ctgov/reconstructed/FACTS/`): ages in years, the time since the stroke
in days (a month is 30.44 days, a year 365.25), routes by where the cells go.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Route = Literal[
    "intravenous",
    "intraarterial",
    "intracerebral",
    "intracavitary",
    "intraventricular",
    "intrathecal",
    "intranasal",
    "intramuscular",
    "subcutaneous",
]
"""Where the treatment goes. `intracavitary`: into the space left by a removed blood clot;
`intraventricular`: into the fluid spaces inside the brain; `intrathecal`: into the fluid
around the spinal cord."""

Population = Literal["adults", "children", "newborns"]
Control = Literal["placebo", "sham", "usual_care", "active", "none"]
"""What the treatment is compared with; "none": every participant gets the treatment."""
SponsorKind = Literal["company", "non_company"]

NOT_STATED = "not stated"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ContactFact(_Model):
    """Someone the record names to ask about the study, as public in the registry."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None


class Criterion(_Model):
    """One eligibility rule that rules many people in or out, as an `alerts` catalog key with
    its numbers, and the criterion's own words."""

    key: str
    values: dict[str, int] = {}
    evidence: str


class TrialFacts(_Model):
    routes: tuple[Route, ...] = ()
    """Most invasive first; empty when the record does not say how the treatment is given."""
    population: Population | None = None
    age_min_years: float | None = None
    age_max_years: float | None = None
    stroke_window_days: tuple[float, float | None] | None = None
    """When people can join, in days since the stroke: (from, to); `to` is None for "at least
    N days after"; None when the record gives no such window."""
    randomised: bool | None = None
    control: Control | None = None
    sponsor_kind: SponsorKind | None = None
    enrollment_count: int | None = None
    enrollment_actual: bool | None = None
    """True: the number of people who took part; False: the number planned."""
    results_posted: bool = False
    contacts: tuple[ContactFact, ...] = ()
    routes_together: bool = False
    """One group gets the treatment by several routes at once (else each group has its own)."""
    multicentre: bool | None = None
    """True: run at several centres; False: at one; None: the record does not say."""
    efficacy_aim: bool = False
    """The record says the study looks at whether the treatment works, not only at safety."""
    criteria: tuple[Criterion, ...] = ()
    evidence: dict[str, str] = {}
    """For each key above: the quote (exact text of the record) or `field = value` it came
    from, or "not stated"."""

    @property
    def has_contact(self) -> bool:
        return bool(self.contacts)

    def to_json(self) -> dict[str, Any]:
        """The stored and printed form (`trialbot show --json`), `has_contact` included."""
        data = self.model_dump(mode="json")
        data["has_contact"] = self.has_contact
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialFacts:
        return cls.model_validate({k: v for k, v in data.items() if k != "has_contact"})


FACT_KEYS: tuple[str, ...] = (
    "routes",
    "population",
    "age_min_years",
    "age_max_years",
    "stroke_window_days",
    "randomised",
    "control",
    "sponsor_kind",
    "enrollment_count",
    "enrollment_actual",
    "results_posted",
    "contacts",
)
