"""The stem-cell / stroke classifier on real and reconstructed CT.gov records.

Labelled records (reconstructed/LABELS.json) must get their labelled tier and buckets; every
real recorded record (all negatives, incl. HSCT-for-leukaemia and cell therapy for heart
attack) must come out not relevant. Hard cases are checked on trials derived in code from real
records, so the rules are tested on realistic shapes rather than on hand-written stubs.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from jobs.classify import CLASSIFIER_VERSION, classify, inclusion_criteria
from jobs.registries.ctgov_record import normalise
from jobs.vocabulary import CELL_TERMS
from tests.conftest import CTGOV, all_recorded_studies, load_json, study
from trialbot.classification import Classification
from trialbot.model import Design, Eligibility, Intervention, MeshTerm, Trial

RECONSTRUCTED = CTGOV / "reconstructed"
LABELS: list[dict[str, Any]] = load_json(RECONSTRUCTED / "LABELS.json")
TIER_OF_LABEL = {"yes": "core", "borderline": "borderline", "no": "excluded"}


def reconstructed(stem: str) -> Trial:
    return normalise(load_json(RECONSTRUCTED / f"{stem}.json"))


def recorded(nct_id: str) -> Trial:
    """A real recorded study by id, from whichever fixture file holds it."""
    for _, raw in all_recorded_studies():
        if raw["protocolSection"]["identificationModule"]["nctId"] == nct_id:
            return normalise(raw)
    raise LookupError(nct_id)


def umsis() -> Trial:
    """A clean positive: UC-MSC for ischemic stroke, with a mixed time window."""
    return reconstructed("NCT04811651__2022-05-25")


def with_intervention(
    name: str, title: str = "Cell therapy for ischemic stroke", **update: Any
) -> Trial:
    """UMSIS with a single named intervention and a neutral title."""
    fields: dict[str, Any] = {
        "interventions": (Intervention(type="BIOLOGICAL", name=name),),
        "arms": (),
        "brief_title": title,
        "official_title": None,
        "acronym": None,
        "keywords": (),
        "summary": None,
        "detailed_description": None,
    }
    fields.update(update)
    return umsis().model_copy(update=fields)


def with_conditions(*conditions: str, **update: Any) -> Trial:
    """UMSIS with only these conditions as stroke evidence (titles and texts neutralised)."""
    fields: dict[str, Any] = {
        "conditions": conditions,
        "brief_title": "Stem cells for patients",
        "official_title": None,
        "acronym": None,
        "keywords": (),
        "summary": None,
        "detailed_description": None,
        "eligibility": Eligibility(),
        "condition_mesh": (),
    }
    fields.update(update)
    return umsis().model_copy(update=fields)


# --- 1. labelled records -------------------------------------------------------------------


@pytest.mark.parametrize("label", LABELS, ids=[e["file"] for e in LABELS])
def test_labelled_record(label: dict[str, Any]) -> None:
    result = classify(reconstructed(label["file"].removesuffix(".json")))
    why = f"{label['file']}: {result.to_json()}"
    assert result.tier == TIER_OF_LABEL[label["stem_cell"]], why
    assert list(result.buckets) == sorted(label["conditions"]), why
    assert result.reasons, why
    if label["category"] == "positive":
        assert result.relevant, why
    elif label["category"] == "negative":
        assert not result.relevant, why
    else:
        assert label["category"] == "borderline"
        assert result.tier == "borderline" and result.relevant, why


def test_labels_cover_the_hard_reconstructed_cases() -> None:
    """The two special labels the brief calls out behave as documented."""
    hie = classify(reconstructed("NCT04261335__2023-10-03"))
    assert hie.buckets == () and not hie.relevant  # Brain Ischemia only as an ancestor
    stop2 = classify(reconstructed("NCT00006182__2016-02-18"))
    assert stop2.tier == "excluded" and stop2.buckets == ("stroke_unspecified",)
    gcsf = classify(reconstructed("NCT00901381__2014-01-07"))
    assert gcsf.tier == "borderline"
    assert any("gcsf" in r for r in gcsf.reasons)  # title says "Stem Cells Therapy"


# --- 2. every real record is a negative ----------------------------------------------------


def test_every_recorded_record_is_not_relevant() -> None:
    records = all_recorded_studies()
    assert len(records) >= 250
    relevant = []
    for name, raw in records:
        result = classify(normalise(raw))
        if result.relevant:
            relevant.append((name, result.to_json()))
    assert relevant == []


def test_hard_negatives_are_rejected_for_the_right_reason() -> None:
    leukaemia = classify(recorded("NCT01949129"))  # allogeneic SCT for ALL
    assert leukaemia.tier == "excluded"
    assert any(r.startswith("exclude:hsct for haematological") for r in leukaemia.reasons)
    cord = classify(recorded("NCT05335226"))  # haplo + cord blood SCT for leukaemia
    assert cord.tier == "excluded"
    assert any("haematological" in r for r in cord.reasons)
    registry = classify(recorded("NCT03840928"))  # Stroke is 1 of 64 conditions
    assert not registry.relevant and registry.buckets == ()
    heart = classify(recorded("NCT00711542"))  # BM progenitor cells after MI
    assert heart.tier == "core" and heart.buckets == () and not heart.relevant


# --- 3. hard cases -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Brain stem stimulation",
        "Brainstem stroke rehabilitation",
        "Platelet-rich plasma",
        "Erythropoietin",
        "CAR-T cells",
        "NK cells",
        "stem cell collection",
        "cancer stem cells",
        "STEM education",
        "stemming",
        "systemic therapy",
        "Stent retriever",
        "Masters (MSc) student led exercise",
        "Alteplase",
        "cell-free DNA",
        "tumour stem cells",
    ],
)
def test_non_stem_cell_words_never_make_a_stem_cell_trial(name: str) -> None:
    result = classify(with_intervention(name, title="Brainstem stroke: a rehabilitation trial"))
    assert result.tier == "excluded", result.reasons
    assert not any(r.startswith("cell:") for r in result.reasons)


def test_brainstem_in_every_field_never_matches() -> None:
    trial = reconstructed("NCT03876457__2024-03-15").model_copy(
        update={
            "brief_title": "Brainstem Stroke Thrombectomy",
            "official_title": "Brain stem infarction",
            "keywords": ("brainstem",),
            "summary": "Posterior circulation brainstem stroke.",
        }
    )
    result = classify(trial)
    assert result.tier == "excluded"
    assert result.buckets == ("ischemic",)


EXAMPLES: dict[str, tuple[str, ...]] = {
    "msc": (
        "Mesenchymal stem cells",
        "mesenchymal stromal cells",
        "MSCs",
        "multipotent stromal cells",
        "cranial bone-derived mesenchymal stem cells",
    ),
    "bm_msc": ("bone marrow stromal cells", "BM-MSC", "BMSCs"),
    "uc_msc": (
        "UC-MSC",
        "UCMSC",
        "UC MSC",
        "hUC-MSCs",
        "hUCMSC",
        "hUMSCs",
        "Wharton's jelly MSC",
        "WJ-MSC",
        "UMSC01",
        "UMC119-06",
        "Cordstem-ST",
        "SCLnow 19#",
        "19#iSCLife-CI",
        "Umbilical Cord-derived Mesenchymal Stem Cells",
    ),
    "ad_msc": ("adipose-derived stem cells", "AD-MSC", "ADSCs", "ADMSC"),
    "pl_msc": (
        "human placental-derived 3D mesenchymal stem cells",
        "hP-MSC",
        "PMSCs",
        "amniotic membrane stem cells",
    ),
    "other_msc": ("dental pulp stem cells", "DPSC", "menstrual blood stem cells"),
    "muse": ("Muse cells", "CL2020"),
    "mapc": ("MultiStem", "HLCM051", "multipotent adult progenitor cells", "MAPC"),
    "sb623": ("SB623", "SB-623", "modified stromal cells"),
    "nsc": (
        "CTX0E03",
        "CTX DP",
        "NSI-566",
        "NR1 neural cells",
        "neural stem cells",
        "neural progenitor cells",
        "iNSC",
    ),
    "esc_derived": ("hESC-derived neural cells", "embryonic stem cells", "H9-derived cells"),
    "ipsc_derived": ("iPSC-derived neurons", "induced pluripotent stem cells", "iPS cells"),
    "bmmnc": (
        "bone marrow mononuclear cells",
        "BM-MNC",
        "BMMNC",
        "BMMC",
        "autologous bone marrow cells",
        "bone marrow-derived stem cells",
    ),
    "cd34": ("CD34+ cells", "CD34-positive cells"),
    "cord_blood": (
        "umbilical cord blood cells",
        "UCB cells",
        "hUCB-MNC",
        "cord blood mononuclear cells",
        "Umbilical Cord Blood Infusion",
        "Allogeneic umbilical cord blood",
        "Human umbilical cord blood (hUCB)",
        "hUCB",
        "UCB infusion",
        "cord blood units",
        "Intravenous infusion of allogeneic umbilical cord blood",
    ),
    "stem_cell": ("autologous stem cells", "adult stem cells"),
    "hsct": ("Autologous peripheral blood stem cells",),
    "ev": (
        "MSC-derived exosomes",
        "Exosomes",
        "extracellular vesicles",
        "MSC-EVs",
        "secretome",
        "MSC conditioned medium",
    ),
    "gcsf": (
        "G-CSF",
        "filgrastim",
        "Lenograstim",
        "pegfilgrastim",
        "stem cell mobilisation",
        "Granulocyte colony-stimulating factor",
        "Plerixafor",
    ),
    "svf": ("stromal vascular fraction", "SVF", "adipose-derived regenerative cells"),
    "epc": ("endothelial progenitor cells", "EPCs"),
    "other_cells": (
        "olfactory ensheathing cells",
        "Schwann cells",
        "DUOC-01",
        "cord blood-derived monocytes",
    ),
}
EXPECTED_TIER = {
    "core": "core",
    "hsct": "core",
    "borderline": "borderline",
    "cellfree": "borderline",
}
KIND = {key: kind for key, kind, _ in CELL_TERMS}


def test_every_cell_term_has_examples() -> None:
    """New keys need examples here: they also prove the substring prefilter lets them in."""
    assert set(EXAMPLES) == set(KIND)


@pytest.mark.parametrize(("key", "name"), [(k, n) for k, ns in EXAMPLES.items() for n in ns])
def test_cell_vocabulary(key: str, name: str) -> None:
    result = classify(with_intervention(name))
    assert result.tier == EXPECTED_TIER[KIND[key]], result.reasons
    assert result.relevant
    assert any(r.startswith(f"cell:{key} ") for r in result.reasons), result.reasons


def test_hsct_for_leukaemia_is_excluded_even_with_a_stroke_word() -> None:
    trial = with_intervention(
        "Allogeneic haematopoietic stem cell transplantation",
        title="HSCT in Acute Myeloid Leukaemia and stroke risk",
        conditions=("Acute Myeloid Leukaemia", "Stroke"),
    )
    result = classify(trial)
    assert result.tier == "excluded" and not result.relevant
    assert "exclude:hsct for haematological disease 'Acute Myeloid Leukaemia'" in result.reasons


def test_hsct_wording_without_any_stroke_target_is_excluded() -> None:
    trial = with_conditions(
        "Multiple Sclerosis",
        interventions=(Intervention(type="PROCEDURE", name="Autologous HSCT"),),
        arms=(),
    )
    result = classify(trial)
    assert result.tier == "excluded"
    assert "exclude:hsct without a stroke target" in result.reasons


def test_sickle_cell_transplant_with_stroke_history_is_excluded() -> None:
    trial = reconstructed("NCT02766465__2019-09-12").model_copy(
        update={"conditions": ("Sickle Cell Disease", "Stroke")}
    )
    result = classify(trial)
    assert result.tier == "excluded" and not result.relevant


@pytest.mark.parametrize(
    "spelling",
    [
        "UC-MSC",
        "UCMSC",
        "UC MSC",
        "uc-msc",
        "hUC-MSC",
        "HUC-MSC",
        "hUCMSCs",
        "UC-MSCs",
    ],
)
def test_uc_msc_spelling_variants(spelling: str) -> None:
    result = classify(with_intervention(spelling))
    assert result.tier == "core"
    assert f"cell:uc_msc '{spelling}' in intervention '{spelling}'" in result.reasons


@pytest.mark.parametrize(
    ("conditions", "buckets"),
    [
        (("Ischaemic Stroke",), ("ischemic",)),
        (("Intracerebral Haemorrhage",), ("intracerebral_hemorrhage",)),
        (("Subarachnoid Haemorrhage",), ("subarachnoid_hemorrhage",)),
        (("Basal ganglia haematoma",), ("intracerebral_hemorrhage",)),
        (("Cerebral infarction",), ("ischemic",)),
    ],
)
def test_british_spellings(conditions: tuple[str, ...], buckets: tuple[str, ...]) -> None:
    result = classify(
        with_conditions(
            *conditions,
            interventions=(Intervention(type="BIOLOGICAL", name="Mesenchymal stromal cells"),),
        )
    )
    assert result.buckets == buckets
    assert result.tier == "core"


def test_british_spellings_in_cells_and_exclusions() -> None:
    assert classify(with_intervention("Stem cell mobilisation")).tier == "borderline"
    leukaemia = with_intervention("Mesenchymal stem cells", conditions=("Leukaemia",))
    assert classify(leukaemia).tier == "excluded"


@pytest.mark.parametrize(
    ("conditions", "buckets"),
    [
        (("Hemorrhagic Stroke",), ("intracerebral_hemorrhage",)),
        (("Haemorrhagic stroke (subarachnoid)",), ("subarachnoid_hemorrhage",)),
        (("Ischemic or Hemorrhagic Stroke",), ("intracerebral_hemorrhage", "ischemic")),
        (("Aneurysmal SAH",), ("subarachnoid_hemorrhage",)),
        (("Transient Ischemic Attack",), ()),
        (("TIA",), ()),
        (("Transient Ischemic Attack", "Stroke"), ("stroke_unspecified",)),
        (("Traumatic Subarachnoid Hemorrhage",), ()),
        (("Traumatic Brain Injury",), ()),
        (("Hypoxic-Ischemic Encephalopathy",), ()),
        (("Cerebral Palsy",), ()),
        (("Acute Myocardial Infarction",), ()),
        (("Critical Limb Ischemia",), ()),
        (("Subdural Hematoma",), ()),
        (("Stroke Volume",), ()),
        (("Ischemia",), ()),
        (("Non-hemorrhagic stroke",), ("ischemic",)),
        (("Spontaneous ICH",), ("intracerebral_hemorrhage",)),
        (("Brain Stem Infarctions",), ("ischemic",)),
        (("CVA",), ("stroke_unspecified",)),
        (("Ictus isquémico",), ("ischemic",)),
        (("Hemorragia intracerebral",), ("intracerebral_hemorrhage",)),
        (("脑梗死",), ("ischemic",)),
        (("脑出血",), ("intracerebral_hemorrhage",)),
        (("蛛网膜下腔出血",), ("subarachnoid_hemorrhage",)),
        (("脑卒中",), ("stroke_unspecified",)),
    ],
)
def test_stroke_buckets(conditions: tuple[str, ...], buckets: tuple[str, ...]) -> None:
    assert classify(with_conditions(*conditions)).buckets == buckets


def test_condition_mesh_counts_but_ancestors_alone_do_not() -> None:
    bleed = with_conditions(condition_mesh=(MeshTerm(id=2543, term="Cerebral Hemorrhage"),))
    assert classify(bleed).buckets == ("intracerebral_hemorrhage",)
    ancestors_only = with_conditions(
        condition_mesh_ancestors=(
            MeshTerm(id=2545, term="Brain Ischemia"),
            MeshTerm(id=2544, term="Cerebral Infarction"),
        )
    )
    assert classify(ancestors_only).buckets == ()
    refined = with_conditions(
        "Stroke", condition_mesh_ancestors=(MeshTerm(id=2544, term="Cerebral Infarction"),)
    )
    assert classify(refined).buckets == ("ischemic",)


def test_reasons_name_the_matched_terms() -> None:
    result = classify(umsis())
    assert (
        "cell:uc_msc 'Umbilical Cord-derived Mesenchymal Stem Cells' in intervention "
        "'Umbilical Cord-derived Mesenchymal Stem Cells'"
    ) in result.reasons
    assert "stroke:ischemic from condition 'Ischemic Stroke'" in result.reasons
    assert any(
        r.startswith("phase:mixed from inclusion criteria") and "1-6 months" in r
        for r in result.reasons
    )


def test_intervention_mesh_alone_makes_a_cell_trial() -> None:
    trial = with_intervention(
        "Investigational product",
        intervention_mesh=(MeshTerm(id=45164, term="Mesenchymal Stem Cell Transplantation"),),
    )
    result = classify(trial)
    assert result.tier == "core"
    assert (
        "mesh-intervention:D045164 'Mesenchymal Stem Cell Transplantation' (msc)" in result.reasons
    )


def test_myocardial_infarction_instead_of_stroke_loses_the_bucket() -> None:
    heart = umsis().model_copy(
        update={
            "conditions": ("Acute Myocardial Infarction",),
            "keywords": ("Myocardial Infarction", "Stem Cell"),
            "brief_title": (
                "Umbilical Cord-derived Mesenchymal Stem Cells for Myocardial Infarction"
            ),
            "official_title": "UC-MSC for Acute Myocardial Infarction (STEMI): a Pilot Study",
            "acronym": None,
            "summary": "Intravenous UC-MSC in patients with acute myocardial infarction.",
            "eligibility": Eligibility(criteria="Inclusion Criteria:\n* STEMI within 7 days"),
        }
    )
    result = classify(heart)
    assert result.tier == "core"
    assert result.buckets == () and not result.relevant
    assert result.stroke_phase == "unspecified"


def test_hemorrhage_in_the_exclusion_criteria_adds_no_bucket() -> None:
    base = reconstructed("NCT02813512__2018-12-07")  # condition is plain "Stroke"
    excluded_bleed = base.model_copy(
        update={
            "summary": None,
            "detailed_description": None,
            "eligibility": Eligibility(
                criteria=(
                    "Inclusion Criteria:\n\n* history of stroke between six months and 10 years\n\n"
                    "Exclusion Criteria:\n\n* intracerebral hemorrhage\n* hemorrhagic stroke\n"
                    "* subarachnoid hemorrhage"
                )
            ),
        }
    )
    assert "hemorrhage" not in inclusion_criteria(excluded_bleed)
    result = classify(excluded_bleed)
    assert result.buckets == ("stroke_unspecified",)
    assert result.relevant
    included_bleed = excluded_bleed.model_copy(
        update={
            "eligibility": Eligibility(
                criteria=(
                    "Inclusion Criteria:\n* spontaneous intracerebral hemorrhage 6-24 months ago"
                )
            )
        }
    )
    assert classify(included_bleed).buckets == ("intracerebral_hemorrhage",)


def test_negated_mentions_do_not_upgrade_a_plain_stroke() -> None:
    trial = with_conditions(
        "Stroke",
        eligibility=Eligibility(
            criteria="Inclusion Criteria:\n* stroke without hemorrhage on CT\n"
        ),
    )
    assert classify(trial).buckets == ("stroke_unspecified",)


def test_stroke_as_one_of_many_conditions_is_not_a_target() -> None:
    many = (
        "Diabetes",
        "Heart Failure",
        "Osteoarthritis",
        "Crohn Disease",
        "Lupus",
        "Psoriasis",
        "Asthma",
        "Liver Cirrhosis",
        "Spinal Cord Injury",
        "Autism",
        "Erectile Dysfunction",
        "Stroke",
    )
    umbrella = with_conditions(*many, brief_title="Umbilical Cord MSCs for Chronic Diseases")
    result = classify(umbrella)
    assert result.tier == "core" and result.buckets == () and not result.relevant
    assert any(r.startswith("stroke:ignored, 1 of 12 listed conditions") for r in result.reasons)
    named = umbrella.model_copy(update={"brief_title": "UC-MSC for Stroke and Other Diseases"})
    assert classify(named).relevant


def test_observational_studies_are_excluded_unless_expanded_access() -> None:
    observational = umsis().model_copy(update={"design": Design(study_type="OBSERVATIONAL")})
    result = classify(observational)
    assert result.tier == "excluded"
    assert "exclude:observational study (no treatment given)" in result.reasons
    expanded = observational.model_copy(update={"has_expanded_access": True})
    assert classify(expanded).tier == "core"


def test_cell_free_product_named_with_its_source_is_borderline() -> None:
    trial = with_intervention(
        "Exosome",
        intervention_mesh=(),
        arms=(),
        interventions=(
            Intervention(
                type="BIOLOGICAL",
                name="Exosome",
                description="Exosomes derived from umbilical cord MSCs, intravenous",
            ),
        ),
    )
    assert classify(trial).tier == "borderline"
    source = with_intervention(
        "UC-MSC",
        interventions=(
            Intervention(
                type="BIOLOGICAL",
                name="Cell infusion",
                description="UC-MSC expanded in serum-free medium. Exosome levels are "
                "measured in blood as an exploratory outcome.",
            ),
        ),
    )
    assert classify(source).tier == "core"


def cord_blood_stroke_trial(intervention: dict[str, Any]) -> Trial:
    """SELECT2, a real acute ischaemic stroke trial (thrombectomy, so a negative), with its
    interventions replaced by one cord-blood product and nothing else changed."""
    raw = copy.deepcopy(study("NCT03876457__2024-03-15"))
    raw["protocolSection"]["armsInterventionsModule"] = {
        "armGroups": [
            {
                "label": "Treatment",
                "type": "EXPERIMENTAL",
                "interventionNames": [f"Biological: {intervention['name']}"],
            },
            {"label": "Medical Management", "interventionNames": ["Other: Medical Management"]},
        ],
        "interventions": [
            {"type": "BIOLOGICAL", **intervention},
            {"type": "OTHER", "name": "Medical Management"},
        ],
    }
    return normalise(raw)


CORD_BLOOD_PRODUCTS = [
    {"name": "Umbilical Cord Blood Infusion"},
    {
        "name": "Human umbilical cord blood",
        "otherNames": ["hUCB"],
        "description": "A single intravenous infusion of allogeneic, non-HLA-matched human "
        "umbilical cord blood, 3 to 10 days after the stroke.",
    },
    {"name": "hUCB", "description": "Given intravenously once."},
]


@pytest.mark.parametrize("product", CORD_BLOOD_PRODUCTS, ids=lambda p: p["name"])
def test_cord_blood_given_after_a_stroke_is_core(product: dict[str, Any]) -> None:
    """A cord-blood product is cells whether or not the record adds the word "cells"."""
    assert classify(recorded_select2()).tier == "excluded"
    result = classify(cord_blood_stroke_trial(product))
    assert result.tier == "core" and result.relevant, result.reasons
    assert result.buckets == ("ischemic",)
    assert any(r.startswith("cell:cord_blood ") for r in result.reasons), result.reasons


@pytest.mark.parametrize(
    "name",
    [
        "Umbilical Cord Blood Plasma",
        "Umbilical cord blood CIK cells",
        "Cord blood NK cells",
        "Cord blood sample collection",
        "cord blood gas analysis",
        "Infusion of umbilical cord blood plasma",
        "Certolizumab pegol (UCB)",
        "UCB",
    ],
)
def test_cord_blood_words_that_are_not_a_stem_cell_product(name: str) -> None:
    """Plasma, immune cells, samples and the company UCB are not cord-blood cells."""
    result = classify(cord_blood_stroke_trial({"name": name}))
    assert result.tier == "excluded", result.reasons


def test_cord_blood_for_a_blood_cancer_stays_excluded() -> None:
    trial = cord_blood_stroke_trial({"name": "Umbilical cord blood infusion"}).model_copy(
        update={"conditions": ("Acute Myeloid Leukemia", "Stroke")}
    )
    result = classify(trial)
    assert result.tier == "excluded" and not result.relevant
    assert "exclude:cells for haematological disease 'Acute Myeloid Leukemia'" in result.reasons


def test_cord_blood_in_background_prose_is_not_promoted() -> None:
    trial = recorded_select2().model_copy(
        update={
            "summary": "Umbilical cord blood infusion improved recovery after stroke in rats.",
            "detailed_description": "Earlier work gave human umbilical cord blood (hUCB) "
            "to animals. This trial tests thrombectomy.",
        }
    )
    assert classify(trial).tier == "excluded"


def recorded_select2() -> Trial:
    return reconstructed("NCT03876457__2024-03-15")


def test_title_counts_only_without_interventions_or_for_an_unnamed_cell_product() -> None:
    drug = with_intervention("Atorvastatin", title="Statins and Stem Cells after Stroke")
    assert classify(drug).tier == "excluded"
    product = with_intervention(
        "Autologous cell transplantation", title="Autologous Stem Cells after Stroke"
    )
    assert classify(product).tier == "core"
    bare = with_intervention(
        "x", title="Autologous Stem Cells after Stroke", interventions=(), arms=()
    )
    assert classify(bare).tier == "core"


def test_json_round_trip() -> None:
    result = classify(umsis())
    data = result.to_json()
    assert data == {
        "tier": "core",
        "buckets": ["ischemic"],
        "stroke_phase": "mixed",
        "reasons": list(result.reasons),
        "relevant": True,
    }
    assert Classification.from_json(data) == result
    assert isinstance(CLASSIFIER_VERSION, int)
    with pytest.raises(ValueError):
        Classification.from_json({**data, "tier": "maybe"})
    with pytest.raises(ValueError):
        Classification.from_json({**data, "buckets": ["heart"]})


def test_relevant_needs_a_tier_and_a_bucket() -> None:
    assert Classification("borderline", ("ischemic",), "acute", ("x",)).relevant
    assert not Classification("core", (), "unspecified", ("x",)).relevant
    assert not Classification("excluded", ("ischemic",), "acute", ("x",)).relevant


# --- 4. time since stroke ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "phase"),
    [
        ("NCT04811651__2022-05-25", "mixed"),  # groups 6-24 h ... 1-6 months
        ("NCT02448641__2020-04-17", "chronic"),  # "Chronic Motor Deficit", no criteria shown
        ("NCT02448641__2020-10-08", "chronic"),  # 6 to 90 months post-stroke
        ("NCT03629275__2019-03-02", "chronic"),  # 6 to 12 months
        ("NCT03629275__2021-08-13", "chronic"),  # 6 to 24 months
        ("NCT01287936__2016-12-21", "chronic"),  # 6 to 60 months
        ("NCT04631406__2022-05-10", "chronic"),  # 6 to 60 months (NR1)
        ("NCT02813512__2018-12-07", "chronic"),  # six months to 10 years
        ("NCT03545607__2019-08-13", "acute"),  # 18-36 hours
        ("NCT01436487__2016-08-02", "acute"),  # 1-2 days
        ("NCT03570450__2023-07-27", "acute"),  # 24-48 h, within the first week
        ("NCT04074408__2020-05-26__recruiting", "acute"),  # within 5 days from onset
        ("NCT00901381__2014-01-07", "acute"),  # during 48 hours after onset
        ("NCT00875654__2014-07-15", "subacute"),  # 14 previous days / < 6 weeks
        ("NCT07197606__2025-09-29", "subacute"),  # "Subacute", "Recovery Phase"
        ("NCT03176498__2020-10-28", "subacute"),  # "Convalescent Period"
        ("NCT02378974__2016-10-30", "unspecified"),  # no timing in the record
        ("NCT01716481__2017-04-26__recruiting", "unspecified"),  # "acute phase" is a serum draw
    ],
)
def test_stroke_phase_on_records(stem: str, phase: str) -> None:
    result = classify(reconstructed(stem))
    assert result.stroke_phase == phase, result.reasons


@pytest.mark.parametrize(
    ("inclusion", "phase"),
    [
        ("* ischemic stroke within 7 days of onset", "acute"),
        ("* first-ever stroke, treatment within seventy-two hours of symptom onset", "acute"),
        ("* ischemic stroke between 7 and 30 days before enrolment", "subacute"),
        ("* chronic stroke (>6 months)", "chronic"),
        ("* ischemic stroke 3 to 60 months after onset", "mixed"),
        ("* aged 18-80 years\n* ischemic stroke", "unspecified"),
        ("* ischemic stroke\n* followed up for 12 months after stroke", "unspecified"),
    ],
)
def test_stroke_phase_windows(inclusion: str, phase: str) -> None:
    trial = with_conditions(
        "Ischemic Stroke",
        eligibility=Eligibility(
            criteria=f"Inclusion Criteria:\n{inclusion}\n\nExclusion Criteria:\n"
            "* stroke within 48 hours before screening"
        ),
    )
    assert classify(trial).stroke_phase == phase


# --- speed ---------------------------------------------------------------------------------


def test_classifying_is_fast() -> None:
    """A generous bound (measured ~1 ms/record) that still catches a catastrophic regex."""
    trials = [normalise(raw) for _, raw in all_recorded_studies()]
    start = time.perf_counter()
    for trial in trials:
        classify(trial)
    assert (time.perf_counter() - start) / len(trials) < 0.02
