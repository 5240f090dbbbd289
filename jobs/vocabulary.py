"""Term tables for the stem-cell / stroke classifier (`jobs.classify`).

Plain data only: regex source strings and MeSH lookups, taken from the domain guide
(/work/shared/domain.md, sections 1.2-1.5 and 2.1-2.3). `jobs.classify` compiles them once at
import. Patterns are matched case-insensitively against text that has already had British
spellings folded (`haem` -> `hem`, `ischaem` -> `ischem`, `leukaem` -> `leukem`, `mobilis` ->
`mobiliz`) and dashes unified, so the tables only spell the US form. Short abbreviations that
collide with ordinary words (`MSc` the degree, Spanish `tía`, `ICH` the GCP body) are wrapped in
`(?-i:...)` so only the upper-case registry form matches.

Keys are stable identifiers that end up in stored reasons; rename them only with a
CLASSIFIER_VERSION bump. What the registries are searched with lives beside this, in
`jobs.search_terms`; tests/jobs/registries/test_search_terms.py checks that every registry's
query names each cell kind and stroke bucket defined here.
"""

from __future__ import annotations

from typing import Literal

CellKind = Literal["core", "borderline", "cellfree", "hsct"]
"""core: living stem/stromal/progenitor cells; borderline: stem-cell-adjacent cells (EPC, SVF,
OEC); cellfree: products without cells that borrow the words (EVs, secretome, G-CSF and other
mobilisers) - borderline too, but they outrank a core word in the same sentence ("MSC-derived
exosomes", "G-CSF for stem cell therapy"); hsct: blood-forming stem-cell transplant wording,
which is a stroke therapy only when stroke is the target and no blood disease is."""

Bucket = Literal[
    "ischemic", "intracerebral_hemorrhage", "subarachnoid_hemorrhage", "stroke_unspecified"
]

# A word-boundary helper for "cell"/"cells".
_CELLS = r"cells?\b"
_SEP = r"[-\s]?"
# After "cord blood": the parts of it that are not its stem-cell product.
_CB_NOT_CELLS = (
    r"(?![-\s]+(?:plasma|serum|platelets?|derived|nk\b|cik\b|natural\s+killer|t[-\s]?cells?"
    r"|tregs?|regulatory|lymphocytes?|monocytes?|exosom\w*|extracellular|gas(?:es)?\b"
    r"|samples?|sampling|collection|banks?|banking|storage|donors?))"
)

CELL_TERMS: tuple[tuple[str, CellKind, tuple[str, ...]], ...] = (
    # --- cell-free products first: at the same start position the first alternative wins.
    (
        "ev",
        "cellfree",
        (
            r"\bexosomes?\b",
            r"\bextracellular\s+vesicles?\b",
            r"(?-i:\b(?:s|MSC-?|msc-?)?EVs\b)",
            r"\bsecretomes?\b",
            r"\bconditioned\s+medi(?:um|a)\b",
            r"\bcell[-\s]free\s+(?:therapy|treatment|product|preparation)s?\b",
        ),
    ),
    (
        "gcsf",
        "cellfree",
        (
            r"\bg[-\s]?csf\b",
            r"\bgranulocyte[-\s]+colony[-\s]+stimulating\s+factors?\b",
            r"\b(?:peg)?filgrastim\b",
            r"\blenograstim\b",
            r"\bleukostim\b",
            r"\bplerixafor\b",
            r"\bstem[-\s]cell\s+factor\b",
            r"\bstem[-\s]cells?\s+mobiliz\w*",
            r"\bmobiliz\w*\s+(?:of\s+)?(?:\w+\s+){0,2}?(?:stem|progenitor)\s+" + _CELLS,
        ),
    ),
    # --- blood-forming transplant wording (see CellKind).
    (
        "hsct",
        "hsct",
        (
            r"\b(?:hematopoietic|hemopoietic|blood[-\s]forming)\s+(?:stem|progenitor)"
            r"(?:\s+and\s+progenitor)?\s+cells?(?:\s+transplant\w*)?",
            r"\ballo[-\s]?hscts?\b|\bhscts?\b|\bpbscts?\b|(?-i:\bBMT\b)",
            r"\bperipheral[-\s]+blood\s+(?:stem|progenitor)\s+cells?(?:\s+transplant\w*)?",
            r"\bbone[-\s]+marrow\s+transplant\w*",
            r"\b(?:allogeneic|allogenic|autologous|haploidentical|haplo[-\s]?identical|allo|auto"
            r"|sibling|unrelated|matched)(?:[-\s]+\w+){0,3}?[-\s]+stem[-\s]+cell\s+transplant\w*",
            r"\bcord[-\s]blood\s+transplant\w*",
        ),
    ),
    # --- CORE (domain.md 1.2)
    (
        "muse",
        "core",
        (
            r"\bmuse\s+" + _CELLS,
            r"\bcl2020\b",
            r"\bmultilineage[-\s]differentiating\s+stress[-\s]enduring\s+" + _CELLS,
        ),
    ),
    (
        "mapc",
        "core",
        (
            r"\bmultipotent\s+adult\s+progenitor\s+" + _CELLS,
            r"\bmapcs?\b",
            r"\bmultistem\b",
            r"\bhlcm[-\s]?051\b",
        ),
    ),
    (
        "sb623",
        "core",
        (
            r"\bsb[-\s]?623\b",
            r"\bmodified\s+(?:bone[-\s]+marrow[-\s]+(?:derived\s+)?(?:mesenchymal\s+)?"
            r"(?:stem|stromal)|(?:mesenchymal\s+)?stromal)\s+" + _CELLS,
        ),
    ),
    (
        "nsc",
        "core",
        (
            r"\bneural\s+(?:stem|progenitor|precursor)\s+" + _CELLS,
            r"(?-i:\bi?NSCs?\b)",
            r"\bctx0e03\b",
            r"\bctx\s?dp\b",
            r"\bnsi[-\s]?566\b",
            r"\bhuns001[-\s]?01\b",
            # NR1 is ambiguous on its own: require "neural"/"stem" nearby.
            r"\bnr1\b(?=.{0,80}?\b(?:neural|stem)\b)",
        ),
    ),
    (
        "esc_derived",
        "core",
        (
            r"\b(?:human\s+)?embryonic\s+stem\s+" + _CELLS,
            r"(?-i:\bh?ESCs?\b)(?=[-\s]derived|\s+cells?\b)",
            r"(?-i:\bhESCs?\b)",
            r"\bh9[-\s]derived\b",
        ),
    ),
    (
        "ipsc_derived",
        "core",
        (
            r"\binduced\s+pluripotent\s+stem\s+" + _CELLS,
            r"\bh?ipscs?\b",
            r"\bips\s+" + _CELLS,
        ),
    ),
    (
        "uc_msc",
        "core",
        (
            r"\b(?:human\s+)?umbilical[-\s]+cord[-\s]+(?:tissue[-\s]+)?(?:derived[-\s]+)?"
            r"(?:mesenchymal\s+)?(?:stem|stromal)\s+" + _CELLS,
            r"\b(?:human\s+)?umbilical[-\s]+cord[-\s]+(?:tissue[-\s]+)?derived\s+mscs?\b",
            r"\bh?(?:uc|wj)" + _SEP + r"mscs?\b",
            r"\bh?umscs?\b",
            r"\bwharton'?s\s+jelly\b",
            r"\bumsc[-\s]?01\b",
            r"\bumc119[-\s]?06\b",
            r"\bcordstem[-\s]?st\b",
            r"\bsclnow\b",
            r"\b(?:19#)?isclife\b",
        ),
    ),
    (
        "cord_blood",
        "core",
        (
            r"\b(?:human\s+)?(?:umbilical\s+)?cord[-\s]blood(?:[-\s]derived)?\s+"
            r"(?:mononuclear\s+|stem\s+|progenitor\s+)?" + _CELLS,
            r"(?-i:\bh?UCB)(?:[-\s]?mncs?\b|\s+cells?\b|[-\s]derived\b)",
            # Cord blood is itself the cell product (domain.md 1.2: "umbilical cord blood
            # (UCB), hUCB"); registries name it without the word "cells". Only where it is
            # plainly given: as the whole intervention name, followed by how it is given, or
            # after "infusion of". Plasma, serum, NK/CIK cells, samples and banking are not.
            r"(?:^|(?<=;))\s*(?:(?:allogeneic|allogenic|autologous|human|unrelated|donor|single|"
            r"intravenous|ia|iv)[-\s]+)*(?:umbilical[-\s]+)?cord[-\s]blood"
            r"(?:\s*\((?-i:h?UCB)\))?\s*(?:;|$)",
            r"\b(?:umbilical[-\s]+)?cord[-\s]blood(?:\s*\((?-i:h?UCB)\))?[-\s]+"
            r"(?:infusions?|injections?|transfusions?|administration|therapy|treatment"
            r"|products?|units?|grafts?|mncs?)\b",
            r"\b(?:infusions?|injections?|transfusions?|administration|doses?)\s+of\s+"
            r"(?:[\w-]+\s+){0,3}?(?:umbilical[-\s]+)?cord[-\s]blood\b" + _CB_NOT_CELLS,
            r"(?-i:\bhUCB\b)" + _CB_NOT_CELLS,
            r"(?-i:\bUCB)[-\s]+(?:infusions?|injections?|transfusions?|units?|products?)\b",
        ),
    ),
    (
        "bm_msc",
        "core",
        (
            r"\b(?:bone[-\s]+)?marrow[-\s]+(?:derived[-\s]+)?(?:mesenchymal\s+(?:stem|stromal)"
            r"|stromal)\s+" + _CELLS,
            r"\bh?bm" + _SEP + r"mscs?\b",
            r"\bh?bmscs?\b",
        ),
    ),
    (
        "bmmnc",
        "core",
        (
            r"\bbone[-\s]+marrow[-\s]+(?:derived[-\s]+)?(?:mononuclear|progenitor|stem)\s+"
            + _CELLS,
            r"\bbm" + _SEP + r"mncs?\b",
            r"(?-i:\bBMMCs?\b)",
            r"\bautologous\s+(?:bone[-\s]+marrow[-\s]+)?(?:derived\s+)?mononuclear\s+" + _CELLS,
            r"\bautologous\s+bone[-\s]+marrow(?:[-\s]+derived)?\s+" + _CELLS,
        ),
    ),
    (
        "ad_msc",
        "core",
        (
            r"\badipose(?:[-\s]+tissue)?[-\s]+(?:derived[-\s]+)?(?:mesenchymal\s+)?"
            r"(?:stem|stromal|progenitor)\s+" + _CELLS,
            r"\bh?ad" + _SEP + r"mscs?\b",
            r"\bh?adscs?\b",
        ),
    ),
    (
        "pl_msc",
        "core",
        (
            r"\bplacenta(?:l)?(?:[-\s]+derived)?\s+(?:\w+\s+)?(?:mesenchymal\s+)?"
            r"(?:stem|stromal)\s+" + _CELLS,
            r"\bh?p" + _SEP + r"mscs?\b",
            r"\b(?:amnion|amniotic)(?:[-\s]+membrane)?(?:[-\s]+derived)?\s+"
            r"(?:mesenchymal\s+|epithelial\s+)?(?:stem|stromal)\s+" + _CELLS,
            r"\bdecidua(?:l)?\s+(?:stem|stromal)\s+" + _CELLS,
        ),
    ),
    (
        "other_msc",
        "core",
        (
            r"\bdental\s+pulp\s+stem\s+" + _CELLS,
            r"(?-i:\bDPSCs?\b)",
            r"\bmenstrual\s+blood(?:[-\s]derived)?\s+(?:stem|stromal)\s+" + _CELLS,
        ),
    ),
    (
        "cd34",
        "core",
        (
            r"\bcd34(?:\+|\s*\(\+\)|[-\s]?positive)?\s*(?:selected\s+|enriched\s+)?"
            r"(?:stem\s+|progenitor\s+)?" + _CELLS,
            r"\bcd34\+?\s+subset\b",
        ),
    ),
    (
        "msc",
        "core",
        (
            r"\bmesenchymal\s+(?:stem|stromal|progenitor)(?:/stromal)?\s+" + _CELLS,
            r"\bmultipotent\s+(?:mesenchymal\s+)?stromal\s+" + _CELLS,
            r"(?-i:\b[hH]?MSCs?\b)",
            r"\bstromal\s+" + _CELLS,
        ),
    ),
    (
        "stem_cell",
        "core",
        (
            r"\badult\s+stem\s+" + _CELLS,
            r"\bstem[-\s]?cells?\b",
        ),
    ),
    # --- BORDERLINE cells (domain.md 1.2)
    (
        "epc",
        "borderline",
        (
            r"\bendothelial\s+progenitor\s+" + _CELLS,
            r"(?-i:\bEPCs?\b)",
            r"\boutgrowth\s+endothelial\s+" + _CELLS,
            r"\bendothelial\s+colony[-\s]forming\s+" + _CELLS,
        ),
    ),
    (
        "svf",
        "borderline",
        (
            r"\bstromal\s+vascular\s+fractions?\b",
            r"(?-i:\bSVF\b)",
            r"\badipose[-\s]derived\s+regenerative\s+" + _CELLS,
            r"(?-i:\bADRCs?\b)",
        ),
    ),
    (
        "other_cells",
        "borderline",
        (
            r"\bolfactory\s+ensheathing\s+" + _CELLS,
            r"(?-i:\bOECs?\b)",
            r"\bschwann\s+" + _CELLS,
            r"\bcord[-\s]blood[-\s]derived\s+monocytes?\b",
            r"\bduoc[-\s]?01\b",
            r"\bregenerative\s+" + _CELLS,
        ),
    ),
)

CELL_NEUTRAL: tuple[str, ...] = (
    # Wording that contains a cell term but names no therapy: masked before cell matching.
    r"\b(?:cancer|tumor|leukemi[ac]|leukemia|glioma|glioblastoma|malignant)\s+stem\s+cells?\b",
    r"\bstem[-\s]cells?\s+(?:collection|harvest\w*|apheresis|bank\w*|donors?|donation|"
    r"source|niche|exhaustion|count)\b",
    # "G-CSF-mobilized peripheral blood stem cells" is a cell product, not a mobiliser trial.
    r"\b(?:g[-\s]?csf|filgrastim|plerixafor)[-\s]+(?:mobiliz\w*|primed|stimulated)\b",
)

INTERVENTION_MESH_TERMS: dict[str, tuple[str, CellKind]] = {
    "mesenchymal stem cell transplantation": ("msc", "core"),
    "mesenchymal stem cells": ("msc", "core"),
    "stem cell transplantation": ("stem_cell", "core"),
    "neural stem cells": ("nsc", "core"),
    "induced pluripotent stem cells": ("ipsc_derived", "core"),
    "embryonic stem cells": ("esc_derived", "core"),
    "human embryonic stem cells": ("esc_derived", "core"),
    "adult stem cells": ("stem_cell", "core"),
    "cord blood stem cell transplantation": ("cord_blood", "core"),
    "hematopoietic stem cell transplantation": ("hsct", "hsct"),
    "bone marrow transplantation": ("hsct", "hsct"),
    "peripheral blood stem cell transplantation": ("hsct", "hsct"),
    "stromal vascular fraction": ("svf", "borderline"),
    "exosomes": ("ev", "cellfree"),
    "extracellular vesicles": ("ev", "cellfree"),
    "granulocyte colony-stimulating factor": ("gcsf", "cellfree"),
    "filgrastim": ("gcsf", "cellfree"),
    "lenograstim": ("gcsf", "cellfree"),
    "pegfilgrastim": ("gcsf", "cellfree"),
}
"""Intervention MeSH by term (the primary key, per domain.md 1.3)."""

INTERVENTION_MESH_IDS: dict[int, tuple[str, CellKind]] = {
    45164: ("msc", "core"),  # D045164 Mesenchymal Stem Cell Transplantation (verified)
    33581: ("stem_cell", "core"),  # D033581 Stem Cell Transplantation (verified)
    59630: ("msc", "core"),  # D059630 Mesenchymal Stem Cells (verified)
    18380: ("hsct", "hsct"),  # D018380 Hematopoietic Stem Cell Transplantation
    16026: ("hsct", "hsct"),  # D016026 Bone Marrow Transplantation
}
"""Secondary key: only ids the domain guide marks verified, plus the two HSCT ids (which can
only make a record less relevant)."""

HAEM_CONDITION = (
    r"\bleukemi\w*|\blymphomas?\b|\bmyelomas?\b|\bmyelodysplas\w*|(?-i:\bMDS\b)"
    r"|\baplastic\s+anemia\b|\bsickle[-\s]cell\b|\bthalass[a]?emi\w*|\bhemoglobinopath\w*"
    r"|\bgraft[-\s]+(?:versus|vs\.?)[-\s]+host\b|\bgvhd\b|\bfanconi\b"
    r"|\bsevere\s+combined\s+immunodeficiency\b|(?-i:\bSCID\b)|\bmyeloproliferative\b"
    r"|\bmyelofibrosis\b|\bhematologic(?:al)?\s+(?:malignanc\w*|neoplasm\w*|diseases?|cancers?)"
    r"|\bblood\s+cancers?\b|\bhematological\s+disorders?\b|\bbone\s+marrow\s+failure\b"
)
"""Blood diseases: when one is a target condition, stem cells treat it, not a stroke."""

# --- stroke (domain.md 2.1, 2.3) ---------------------------------------------------------

STROKE_MASK: tuple[str, ...] = (
    # Exclusion pass (2.3 step 2): removed before bucket matching.
    r"\btransient\s+ischemic\s+attacks?\b|\btransitory\s+ischemic\s+attacks?\b"
    r"|\bischemic\s+attack,?\s+transient\b|(?-i:\bTIAs?\b)",
    r"\b(?:neonatal\s+)?hypoxic[-\s]+ischemic\s+(?:encephalopathy|brain\s+injury|injury)\b"
    r"|\bhypoxia[-\s]+ischemia(?:,\s*brain)?\b|(?-i:\bHIE\b)|\bbirth\s+asphyxia\b"
    r"|\bneonatal\s+encephalopathy\b",
    r"\b(?:acute\s+)?myocardial\s+infarct\w*|\binfarction,\s+myocardial\b|\bheart\s+attacks?\b"
    r"|(?-i:\b(?:N?STEMI|AMI)\b)|\bcardiac\s+infarct\w*",
    r"\b(?:critical\s+)?limb\s+ischemia\b|\bperipheral\s+(?:arterial\s+)?ischemia\b",
    r"\b(?:post[-\s]?)?traumatic\s+(?:\w+\s+){0,2}?(?:hemorrhages?|hematomas?|bleed\w*"
    r"|brain\s+injur\w*|injur\w*)|\bbrain\s+injuries,\s+traumatic\b|(?-i:\b(?:TBI|tSAH)\b)",
    r"\b(?:subdural|epidural|extradural)\s+(?:hemorrhages?|hematomas?)\b",
    r"\bheat\s*strokes?\b|\bstroke\s+(?:volume|work|rate|length|index)\b|\bbrush\s+strokes?\b",
    r"\bpituitary\s+apoplexy\b|\beye\s+strokes?\b|\bretinal\s+artery\s+occlusion\b"
    r"|\bspinal(?:\s+cord)?\s+(?:infarct\w*|strokes?)",
    r"\bhemorrhagic\s+transformation\b|\bhemorrhagic\s+conversion\b",
)

STROKE_TERMS: tuple[tuple[Bucket, tuple[str, ...]], ...] = (
    (
        "subarachnoid_hemorrhage",
        (
            r"\bsubarachnoid\s+(?:hemorrhages?|bleed\w*)\b|\bhemorrhage,\s+subarachnoid\b",
            r"(?-i:\ba?SAH\b)",
            r"\bruptured\s+(?:intracranial\s+|cerebral\s+|brain\s+)?aneurysms?\b",
            r"蛛网膜下腔出血",
        ),
    ),
    (
        "intracerebral_hemorrhage",
        (
            r"\b(?:intra[-\s]?cerebral|cerebral|intra[-\s]?parenchymal|parenchymal|brain"
            r"|basal\s+ganglia|putaminal|thalamic|lobar|hypertensive|spontaneous\s+intracerebral)"
            r"\s+(?:hemorrhages?|hematomas?|bleeds?|bleeding)\b",
            r"\bhemorrhages?,\s+(?:intracerebral|cerebral)\b",
            r"(?<!non-)(?<!non\s)\bhemorrhagic\s+(?:strokes?|cerebrovascular)\b",
            r"\bstroke,?\s+hemorrhagic\b",
            r"(?-i:\bICH\b)(?![-\s]?(?:GCP|E\d|[Gg]uideline))",
            r"出血性脑卒中|脑出血|脳出血",
            r"\bhemorragia\s+intracerebral\b|\bictus\s+hemorr[aá]gico\b",
        ),
    ),
    (
        "ischemic",
        (
            r"\bischemic\s+(?:strokes?|cerebrovascular|cerebral|brain\s+infarct\w*|infarct\w*)",
            r"\b(?:acute\s+)?ischemic\s+(?:subcortical\s+)?strokes?\b",
            r"\bstroke,?\s+ischemic\b",
            r"\bnon[-\s]?hemorrhagic\s+strokes?\b",
            r"\b(?:cerebral|brain|cerebellar|cortical|subcortical|lacunar|territorial"
            r"|hemispheric|brainstem|brain\s+stem|embolic|thrombotic|cardioembolic)"
            r"\s+infarct(?:s|ions?)?\b",
            r"\binfarction,\s+(?:middle|anterior|posterior)\s+cerebral\s+artery\b",
            r"\b(?:mca|middle\s+cerebral\s+artery|anterior\s+circulation|posterior\s+circulation)"
            r"\s+(?:territory\s+)?(?:strokes?|infarct\w*|occlusions?)\b",
            r"\b(?:lacunar|embolic|thrombotic|cardioembolic|atherothrombotic|cortical|subcortical)"
            r"\s+strokes?\b",
            r"\b(?:cerebral|brain)\s+ischemia\b|\bbrain\s+infarctions?\b",
            r"\blarge[-\s]vessel\s+occlusions?\b|(?-i:\bLVO\b)",
            r"脑梗死|脑梗塞|缺血性脑卒中|缺血性卒中|脳梗塞",
            r"\bictus\s+isqu[eé]mico\b|\binfarto\s+cerebral\b",
        ),
    ),
    (
        "stroke_unspecified",
        (
            r"\bstrokes?\b",
            r"(?-i:\bCVAs?\b)",
            r"\bcerebro[-\s]?vascular\s+(?:accidents?|diseases?|disorders?|events?|insults?)\b",
            r"\bapoplexy\b|\bbrain\s+attacks?\b|\bintracranial\s+hemorrhages?\b",
            r"脑卒中|中风|脳卒中|卒中",
            r"\bictus\b",
        ),
    ),
)
"""Buckets by wording. Specific buckets (first three) beat `stroke_unspecified`."""

STROKE_BOTH = (
    r"\bischemic\s*(?:,|/|&|or|and|and/or)\s*hemorrhagic\b"
    r"|\bhemorrhagic\s*(?:,|/|&|or|and|and/or)\s*ischemic\b"
)
""""ischemic or hemorrhagic stroke" names both buckets (domain.md 2.1)."""

CONDITION_MESH_TERMS: dict[str, Bucket] = {
    "ischemic stroke": "ischemic",
    "cerebral infarction": "ischemic",
    "brain infarction": "ischemic",
    "stroke, lacunar": "ischemic",
    "infarction, middle cerebral artery": "ischemic",
    "infarction, anterior cerebral artery": "ischemic",
    "infarction, posterior cerebral artery": "ischemic",
    "brain stem infarctions": "ischemic",
    "embolic stroke": "ischemic",
    "thrombotic stroke": "ischemic",
    "brain ischemia": "ischemic",
    "cerebral hemorrhage": "intracerebral_hemorrhage",
    "hemorrhagic stroke": "intracerebral_hemorrhage",
    "intracranial hemorrhage, hypertensive": "intracerebral_hemorrhage",
    "basal ganglia hemorrhage": "intracerebral_hemorrhage",
    "putaminal hemorrhage": "intracerebral_hemorrhage",
    "subarachnoid hemorrhage": "subarachnoid_hemorrhage",
    "stroke": "stroke_unspecified",
    "cerebrovascular disorders": "stroke_unspecified",
}
"""Condition MeSH `meshes[]` (never ancestors) by term, the primary key."""

CONDITION_MESH_IDS: dict[int, Bucket] = {
    83242: "ischemic",  # D000083242 Ischemic Stroke
    2544: "ischemic",  # D002544 Cerebral Infarction
    59409: "ischemic",  # D059409 Stroke, Lacunar
    2543: "intracerebral_hemorrhage",  # D002543 Cerebral Hemorrhage
    13345: "subarachnoid_hemorrhage",  # D013345 Subarachnoid Hemorrhage
    20521: "stroke_unspecified",  # D020521 Stroke
}
"""Secondary key: the ids the domain guide marks as seen in a source."""

ANCESTOR_TIEBREAK: dict[str, Bucket] = {
    "brain infarction": "ischemic",
    "cerebral infarction": "ischemic",
    "ischemic stroke": "ischemic",
    "cerebral hemorrhage": "intracerebral_hemorrhage",
    "hemorrhagic stroke": "intracerebral_hemorrhage",
    "subarachnoid hemorrhage": "subarachnoid_hemorrhage",
}
"""Condition MeSH ancestors may only refine a plain "stroke" (domain.md 2.1 notes); they never
create a bucket on their own ("Brain Ischemia" is an ancestor of neonatal HIE)."""

UPGRADE_NEGATION = (
    r"\b(?:no|not|without|excluding|exclude[sd]?|absence\s+of|rule[sd]?\s+out|other\s+than"
    r"|except)\b[^.;\n]{0,40}?(?:hemorrhag\w*|hematomas?|bleed\w*|infarct\w*|ischemi\w*)"
)
"""Negated mentions in inclusion criteria / summaries, masked before upgrading a plain
"stroke" to a specific bucket ("no evidence of hemorrhage on CT")."""

# --- time since stroke (domain.md 2.2) ---------------------------------------------------

NUMBER_WORDS: dict[str, int] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}

UNIT_DAYS: dict[str, float] = {
    "h": 1 / 24,
    "d": 1.0,
    "w": 7.0,
    "mo": 30.44,
    "y": 365.25,
}
"""Days per unit, keyed by the unit's canonical prefix (see `jobs.classify._unit_key`)."""

PHASE_CONTEXT = (
    r"strokes?|onset|ictus|ictal|infarct\w*|hemorrhag\w*|hematoma|bleed\w*|symptoms?|events?"
    r"|cva|insult|injury|isch\w*|cerebrovascular"
)
"""A time window counts only in a sentence/bullet that mentions the stroke itself."""

PHASE_KEYWORDS: tuple[tuple[Literal["acute", "subacute", "chronic"], str], ...] = (
    (
        "subacute",
        r"\bsub[-\s]?acute\b|\brecovery\s+(?:phase|period|stage)\b|\bconvalescen\w*"
        r"|\bpost[-\s]acute\b|恢复期",
    ),
    (
        "acute",
        r"(?<!post-)(?<!post\s)\b(?:hyper)?acute\s+(?:phase\s+|stage\s+|period\s+)?"
        r"(?:of\s+)?(?:ischemic|hemorrhagic|stroke|strokes|cerebral|intracerebral|basal"
        r"|subarachnoid|brain|lacunar|ich|phase|stage|period|infarct\w*)\b|急性期",
    ),
    (
        "chronic",
        r"\bchronic\b[,\s]+(?:\w+[,\s]+){0,2}?(?:strokes?|infarct\w*|hemorrhag\w*|ich"
        r"|deficits?|disabilit\w*|hemipar\w*|hemipleg\w*|phase|stage|motor|sequela\w*)\b"
        r"|\bsequela\w*|后遗症|\bstable\s+(?:\w+\s+)?(?:strokes?|deficits?|motor)\b"
        r"|\bfixed\s+(?:\w+\s+)?deficits?\b|\byears?\s+after\s+(?:the\s+|their\s+)?stroke",
    ),
)
"""Keyword fallback used only when no numeric window is found (domain.md 2.2)."""

# --- prefilters ------------------------------------------------------------------------------

CELL_TRIGGERS: tuple[str, ...] = (
    "stem",
    "stromal",
    "progenitor",
    "marrow",
    "msc",
    "umbilical",
    "cord blood",
    "cord-blood",
    "cordstem",
    "mononuclear",
    "mnc",
    "adsc",
    "cd34",
    "mapc",
    "multistem",
    "hlcm",
    "623",
    "ctx0e03",
    "ctx dp",
    "ctxdp",
    "nsi-566",
    "nsi566",
    "nsi 566",
    "huns001",
    "nr1",
    "neural precursor",
    "h9-derived",
    "h9 derived",
    "ipsc",
    "ips cell",
    "wharton",
    "umc119",
    "sclnow",
    "isclife",
    "muse",
    "cl2020",
    "multilineage",
    "endothelial",
    "olfactory",
    "schwann",
    "duoc",
    "regenerative cell",
    "exosom",
    "vesicle",
    "secretome",
    "conditioned",
    "cell-free",
    "cell free",
    "csf",
    "granulocyte",
    "grastim",
    "leukostim",
    "plerixafor",
    "mobiliz",
    "poietic",
    "blood-forming",
    "blood forming",
    "peripheral blood",
    "peripheral-blood",
    "hsct",
    "pbsct",
    "transplant",
)
"""Lower-case substrings, at least one of which every CELL_TERMS pattern needs. Checked with
`in` before the big alternation runs (which costs ~100 regex branches per character); keep in
step with CELL_TERMS when adding terms (tests/jobs/test_classify.py checks one example per
term)."""

CELL_TRIGGERS_CASED: tuple[str, ...] = (
    "EVs",
    "ESC",
    "NSC",
    "EPC",
    "OEC",
    "SVF",
    "BMT",
    "UCB",
    "BMMC",
    "DPSC",
    "ADRC",
)
"""The case-sensitive abbreviations, checked on the original-case text."""

STROKE_TRIGGERS: tuple[str, ...] = (
    "strok",
    "infarct",
    "ischemi",
    "hemorrh",
    "hematoma",
    "bleed",
    "apoplex",
    "cerebrovascular",
    "cerebro-vascular",
    "cerebro vascular",
    "aneurysm",
    "cva",
    "ich",
    "sah",
    "lvo",
    "occlusion",
    "ictus",
    "infarto",
    "hemorragia",
    "brain attack",
    "卒中",
    "中风",
    "梗",
    "出血",
)
"""Lower-case substrings, at least one of which every STROKE_TERMS pattern needs."""
