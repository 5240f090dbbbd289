"""`trialbot parse FILE --registry NAME`: read a registry answer saved to a file and print each
record as the adapter normalises it, without selecting or storing anything.

Maintainers use it to see why a record reads as it does (status, ages, design, who pays) and
what the classifier makes of it; the adapters are tested the same way on answers recorded by
other projects.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jobs.classify import classify
from jobs.registries.base import RecordError, RegistryError
from jobs.registries.catalog import saved_answers
from trialbot.model import Trial


def parse_command(path: Path, registry: str, as_json: bool) -> int:
    """0 when the file was read (records that cannot be normalised are reported and skipped),
    1 when it could not be read at all."""
    reader = saved_answers(registry)
    read = skipped = 0
    try:
        for raw in reader.records(path):
            try:
                trial = reader.normalise(raw)
            except RecordError as exc:
                skipped += 1
                print(f"skipped a record: {exc}", file=sys.stderr)
                continue
            read += 1
            print(json.dumps(trial.snapshot(), ensure_ascii=False) if as_json else _block(trial))
    except (OSError, RegistryError) as exc:
        print(f"trialbot: cannot read {path} as a {registry} answer: {exc}", file=sys.stderr)
        return 1
    print(f"{read} records read, {skipped} skipped", file=sys.stderr)
    return 0


def _block(trial: Trial) -> str:
    verdict = classify(trial)
    enrol = trial.enrollment
    planned = {True: "planned", False: "actual", None: "not said if planned"}[enrol.estimated]
    lines = [
        f"{trial.registry}:{trial.registry_id}  {trial.brief_title}",
        f"  status {trial.overall_status or '-'}; phases {', '.join(trial.phases) or '-'}; "
        f"enrolment {enrol.count if enrol.count is not None else '-'} ({planned})",
        f"  design: allocation {trial.design.allocation or '-'}, masking "
        f"{trial.design.masking or '-'}; ages {trial.eligibility.minimum_age or '-'} to "
        f"{trial.eligibility.maximum_age or '-'}",
        f"  sponsor {trial.sponsor.name if trial.sponsor else '-'} "
        f"({(trial.sponsor.agency_class if trial.sponsor else None) or '-'}); countries "
        f"{', '.join(trial.countries) or '-'}; sites {len(trial.sites)}",
        f"  classifier: {verdict.tier}; stroke {', '.join(verdict.buckets) or '-'}; "
        f"{'relevant' if verdict.relevant else 'not relevant'}",
        "",
    ]
    return "\n".join(lines)
