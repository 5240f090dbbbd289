"""`trialbot check`: the bot's claim check from the command line, on the real pages."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli import main
from trialbot.claims import FLAGS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "claims"
CLINICS = ["clinic-advert-stroke-india.txt", "clinic-article-stroke-antigua.txt"]
TRIAL = "trial-summary-page-NCT07635758.txt"


@pytest.fixture(autouse=True)
def _no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite URL whose file does not exist: check must neither create nor migrate it."""
    path = tmp_path / "never.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return path


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["check", *args, "--json", "--offline"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    answer: dict[str, object] = json.loads(line)
    return answer


@pytest.mark.parametrize("name", CLINICS)
def test_both_clinic_pages_are_warnings(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    answer = _json(capsys, str(FIXTURES / name))
    assert answer["verdict"] == "warning"
    text = (FIXTURES / name).read_text(encoding="utf-8")
    flags = answer["red_flags"]
    assert isinstance(flags, list) and flags
    for flag in flags:
        assert set(flag) == {"flag", "quote"}
        assert flag["flag"] in FLAGS and flag["quote"] in text
    assert {"flag": "no_registry_id"}.items() <= next(
        f for f in flags if f["flag"] == "no_registry_id"
    ).items()


def test_the_trial_summary_page_is_not_a_warning_and_names_its_trial(
    capsys: pytest.CaptureFixture[str], _no_database: Path
) -> None:
    answer = _json(capsys, str(FIXTURES / TRIAL))
    assert answer == {
        "verdict": "no_red_flags",
        "red_flags": [],
        "registry_ids": ["NCT07635758"],
        "trials": [{"id": "NCT07635758", "found": False, "status": None}],
    }
    assert not _no_database.exists()


def test_standard_input_and_the_plain_answer_in_spanish(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    advert = "Terapia con células madre para el ictus: 90% de éxito, paquete 15.000 dólares."
    monkeypatch.setattr("sys.stdin", io.StringIO(advert))
    assert main(["check", "-", "--lang", "es", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "Señales de alarma" in out and "«" in out and "<b>" not in out
    assert "Preguntas que hacer" in out


def test_an_unreadable_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "missing.txt")]) == 1
    assert "cannot read" in capsys.readouterr().err
