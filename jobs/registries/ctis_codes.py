"""Every EU CTIS code table the adapter decodes, with where each meaning comes from.

Why one module: the CTIS public API (relaunched 2024-06-17) answers with bare numeric codes
where the old portal wrote words, and nothing in the answer names them. A meaning here must
come from a public source or from a real answer that pairs the code with its words; a code
that is not here is never guessed: the record module logs it once (bounded `WarnOnce`) and
counts it in `trialbot_unknown_values_total{registry="ctis",kind=...}`.

Sources:

* [ctrdata-status] rfhb/ctrdata `R/f_statusRecruitment.R` (commit 0d73c2371d3c, 2026-08-11):
  `ctPublicStatusCode` 1..12 as words ("in CTIS2, ctStatus [is the] same as
  ctPublicStatusCode"). The recorded answer
  tests/fixtures/ctis/recorded/ctrdata-demo_2024-510663-34-00.json has `ctStatus` =
  `ctPublicStatusCode` = 4 and recruitment started in both member states.
* [ctrdata-age] rfhb/ctrdata `R/ctrGenerateQueries.R` (same commit): the search criterion
  `ageGroupCode` 1 = in utero, 2 = children (0-17), 3 = adults (18-64), 4 = elderly (65+).
  Real answers agree: the search row's `ageGroup` says "0-17 years" beside `ageRanges[]
  .ageRangeCategoryCode` "2", and "65+ years, 18-64 years" beside categories "4" and "3".
* [ctrdata-scope] rfhb/ctrdata `R/f_trialObjectives.R` (same commit), its "Clinical trial
  scope" code list for `trialObjective.trialScopes[].code`.
* [real-pairing] the four CTIS trials in rfhb/ctrdata `inst/extdata/demo.sqlite` (same commit):
  a product carries characteristic "11" exactly when its `otherMedicinalProduct` text is
  filled ("chemical", "antidiabetic, antiinflammatory"), and another public CTIS viewer shows
  that text as "Other medicinal product" under the product's characteristics. So 11 is
  "Other", described by that text. Code "4" (seen on zanamivir, pioglitazone and pamapimod)
  has no public meaning and stays unknown.

Not decoded (no public meaning found): the other product characteristics (notably no code is
known for "advanced therapy": an ATMP is recognised by its `therapies[]` details instead), the
fine age sub-ranges `ageRangeSecondaryIds[].ctAgeRangeCode` (a real answer holds code 9 under
18-64, which no published table explains; the coarse group already bounds the ages), and
`additionalRegistries[].ctRegistryCode` (the registry's name is given beside it).
"""

from __future__ import annotations

PUBLIC_STATUS: dict[int, str] = {
    1: "Under evaluation",
    2: "Authorised, recruitment pending",
    3: "Authorised, recruiting",
    4: "Ongoing, recruiting",
    5: "Ongoing, recruitment ended",
    6: "Temporarily halted",
    7: "Suspended",
    8: "Ended",  # includes early termination; the events tell which [ctrdata-status]
    9: "Expired",
    10: "Revoked",
    11: "Not authorised",
    12: "Cancelled",
}
"""`ctPublicStatusCode`, `ctStatus` (when a number) and the member states'
`mscPublicStatusCode` [ctrdata-status]. The member-state code is read with the same table:
in every real answer seen the trial's code and each member state's code agree (4 and 4);
other member-state values are unverified."""

AGE_GROUPS: dict[int, str] = {
    1: "In utero",
    2: "0-17 years",
    3: "18-64 years",
    4: "65+ years",
}
"""`populationOfTrialSubjects.ageRanges[].ageRangeCategoryCode` (also `ageRangeCategory`, and
the `ageRangeCategoryCode` each `ageRangeSecondaryIds[]` entry repeats), as the words of the
search row's `ageGroup` [ctrdata-age]."""

TRIAL_SCOPES: dict[int, str] = {
    1: "Diagnosis",
    2: "Prophylaxis",
    3: "Therapy",
    4: "Safety",
    5: "Efficacy",
    6: "Pharmacokinetic",
    7: "Pharmacodynamic",
    8: "Bioequivalence",
    9: "Dose response",
    10: "Pharmacogenetic",
    11: "Pharmacogenomic",
    12: "Pharmacoeconomic",
    13: "Other",
}
"""`trialObjective.trialScopes[].code` [ctrdata-scope]."""

SCOPE_PURPOSES: dict[int, str] = {1: "DIAGNOSTIC", 2: "PREVENTION", 3: "TREATMENT"}
"""The scopes that say what the trial is for, as CT.gov's `primaryPurpose`; the others (safety,
pharmacokinetics...) say what is measured, not why."""

PRODUCT_CHARACTERISTICS: dict[int, str] = {
    11: "Other",
}
"""`products[].characteristics[]` [real-pairing]; "Other" is described by the product's
`otherMedicinalProduct` text, which is therefore never a product name."""


def code_of(value: object) -> int | None:
    """A whole number as CTIS writes it, a code or a count (`4`, `"4"`, `" 4 "`); None for
    words, booleans and blanks."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
