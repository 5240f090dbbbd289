"""Registry ids found however they are written, and written back one way."""

from __future__ import annotations

import pytest

from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.identifiers import (
    canonical,
    find_ids,
    link_keys,
    own_key,
    record_registry,
    source_registry_of,
)
from trialbot.model import SecondaryId


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NCT03545607", ("ClinicalTrials.gov", "NCT03545607")),
        ("nct 03545607", ("ClinicalTrials.gov", "NCT03545607")),
        ("ISRCTN-12345678", ("ISRCTN", "ISRCTN12345678")),
        ("EUCTR2015-001234-12-GB", ("EudraCT", "2015-001234-12")),
        ("2015 001234 12", ("EudraCT", "2015-001234-12")),
        ("2024-520423-88-00", ("EU CTIS", "2024-520423-88-00")),
        ("JPRN-jRCTb050190051", ("jRCT", "jRCTb050190051")),
        ("jRCT2063200001", ("jRCT", "jRCT2063200001")),
        ("ChiCTR2000031319", ("ChiCTR", "ChiCTR2000031319")),
        ("ChiCTR-IOR-17012345", ("ChiCTR", "ChiCTR-IOR-17012345")),
        ("CTRI/2020/01/022345", ("CTRI", "CTRI/2020/01/022345")),
        ("ACTRN12620000123456", ("ANZCTR", "ACTRN12620000123456")),
        ("DRKS00012345", ("DRKS", "DRKS00012345")),
        ("JPRN-UMIN000012345", ("UMIN-CTR", "UMIN000012345")),
        ("KCT0001234", ("CRiS", "KCT0001234")),
        ("IRCT20200101045678N1", ("IRCT", "IRCT20200101045678N1")),
    ],
)
def test_each_registry_id_is_found_and_made_canonical(text: str, expected: tuple[str, str]) -> None:
    assert find_ids(f"registered as {text}, see there") == [expected]
    assert canonical(text) == expected[1]


def test_a_ctis_number_is_not_also_read_as_a_eudract_number() -> None:
    assert find_ids("2023-512345-12-00 (EudraCT 2019-001234-56)") == [
        ("EU CTIS", "2023-512345-12-00"),
        ("EudraCT", "2019-001234-56"),
    ]


@pytest.mark.parametrize(
    "text", ["", "NCT123", "recruiting 2019-03-01 to 2020-01-31", "brainstem", "ISRCTN1234567"]
)
def test_things_that_are_not_registry_ids(text: str) -> None:
    assert find_ids(text) == []
    assert canonical(text) is None


def test_link_keys_trust_secondary_ids_but_only_other_registries_in_free_text() -> None:
    trial = normalise(study("NCT03545607__2019-08-13"))
    assert (
        own_key(trial) == "NCT03545607"
        and record_registry(trial.registry, trial.registry_id) == "ClinicalTrials.gov"
    )
    derived = trial.model_copy(
        update={
            "summary": "Follows NCT01436487. Also registered as ISRCTN 87654321.",
            "secondary_ids": (SecondaryId(id="EudraCT 2017-002152-29", type="EUDRACT_NUMBER"),),
        }
    )
    keys = link_keys(derived)
    assert {"NCT03545607", "ISRCTN87654321", "2017-002152-29"} <= keys
    assert "NCT01436487" not in keys  # another CT.gov study: a related one, not this one


@pytest.mark.parametrize(
    ("trial_id", "expected"),
    [
        ("ChiCTR2000031319", "ChiCTR"),
        ("ChiCTR-INR-17012345", "ChiCTR"),
        ("JPRN-jRCTb050190051", "jRCT"),
        ("JPRN-UMIN000012345", "UMIN-CTR"),
        ("JPRN-JapicCTI-163386", "JapicCTI"),
        ("CTRI/2020/01/022345", "CTRI"),
        ("ACTRN12620000123456", "ANZCTR"),
        ("DRKS00012345", "DRKS"),
        ("KCT0001234", "CRiS"),
        ("IRCT20200101045001N1", "IRCT"),
        ("RBR-6xyz2w", "ReBEC"),
        ("PACTR202001123456789", "PACTR"),
        ("TCTR20200101001", "TCTR"),
        ("LBCTR2020043495", "LBCTR"),
        ("ITMCTR2100004567", "ITMCTR"),
        ("EUCTR2015-001234-12-GB", "EUCTR"),
        ("NCT03545607", "ClinicalTrials.gov"),
        ("ISRCTN12345678", "ISRCTN"),
        ("NL7654", "NTR"),
        ("XYZ-123", "WHO ICTRP"),
        ("", "WHO ICTRP"),
    ],
)
def test_source_registry_of(trial_id: str, expected: str) -> None:
    assert source_registry_of(trial_id) == expected
