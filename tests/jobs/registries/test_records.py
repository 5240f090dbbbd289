"""The helpers the record modules share (jobs/registries/records.py)."""

from __future__ import annotations

import logging

import pytest

from jobs.registries.records import (
    WarnOnce,
    contact,
    contact_text,
    site_order,
    squash_spaces,
    tidy_lines,
    unescape_html,
    unique_contacts,
)
from trialbot.model import Contact, Site

log = logging.getLogger("tests.records")


def test_warn_once_logs_a_value_once_whatever_its_case(caplog: pytest.LogCaptureFixture) -> None:
    warn = WarnOnce(log, "reg", note="; kept")
    with caplog.at_level(logging.WARNING, logger="tests.records"):
        warn("status", "Paused", "R1")
        warn("status", "PAUSED", "R2")
        warn("phase", "Paused", "R3")
    assert [r.getMessage() for r in caplog.records] == [
        "reg: unknown status 'Paused' (first seen in R1); kept",
        "reg: unknown phase 'Paused' (first seen in R3); kept",
    ]


def test_warn_once_remembers_a_bounded_number_of_values(caplog: pytest.LogCaptureFixture) -> None:
    warn = WarnOnce(log, "reg", limit=3)
    with caplog.at_level(logging.WARNING, logger="tests.records"):
        for i in range(1000):
            warn("country", f"Nowhere {i}", "R")
        assert len(warn) == 3
        warn("country", "Nowhere 999", "R")  # still remembered: not logged again
        warn("country", "Nowhere 0", "R")  # forgotten long ago: logged again
    assert len(caplog.records) == 1001
    with pytest.raises(ValueError):
        WarnOnce(log, "reg", limit=0)


def test_warn_once_shortens_long_values(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tests.records"):
        WarnOnce(log, "reg")("status", "x" * 500, "R")
        WarnOnce(log, "reg")("status code", 9871, "R")
    assert "x" * 80 + "'" in caplog.records[0].getMessage()
    assert "status code 9871 " in caplog.records[1].getMessage()


def test_text_helpers() -> None:
    assert unescape_html("&amp;lt;br&amp;gt;", rounds=2) == "<br>"
    assert unescape_html("&amp;lt;br&amp;gt;", rounds=1) == "&lt;br&gt;"
    assert unescape_html("AT&T &amp", rounds=2, needed=lambda t: "&amp;" in t) == "AT&T &amp"
    assert tidy_lines("  a \n\n\n\n b  \n") == "a\n\nb"
    assert tidy_lines(" a \t b ", squash_spaces) == "a b"


def test_sites_sort_by_country_then_city_with_unmapped_countries_last() -> None:
    sites = [
        Site(city="Zurich", country=None, country_name="Helvetia"),
        Site(city="Lyon", country="FR"),
        Site(city="Berlin", country="DE"),
        Site(city="Bordeaux", country="FR"),
    ]
    assert [s.city for s in sorted(sites, key=site_order)] == [
        "Berlin",
        "Bordeaux",
        "Lyon",
        "Zurich",
    ]


@pytest.mark.parametrize("value", ["N/A", "n/a.", " - ", "Nil known", "none", "NULL", "", None, 7])
def test_contact_placeholders_are_missing(value: object) -> None:
    assert contact_text(value) is None


def test_a_contact_needs_a_phone_or_an_email_it_can_be_reached_by() -> None:
    assert contact("Dr A", "CONTACT", None, None) is None  # a bare name
    assert contact("Dr A", "CONTACT", "ask the site", "see website") is None
    assert contact("Dr A", "CONTACT", "+86", None) is None  # a calling code only
    vanity = contact("Info line", "CONTACT", "1-877-ALNYLAM", "N/A")
    assert vanity == Contact(name="Info line", role="CONTACT", phone="1-877-ALNYLAM")
    assert contact("  Dr\n A ", "", "-", "a@example.org") == Contact(
        name="Dr A", email="a@example.org"
    )


def test_unique_contacts_keep_the_first_entry_of_each_person_in_order() -> None:
    a = Contact(name="A", role="CONTACT", phone="111 222")
    b = Contact(name="B", role="CONTACT", email="b@example.org")
    a_again = a.model_copy(update={"role": "PRINCIPAL_INVESTIGATOR"})
    assert unique_contacts([None, b, a, b, a_again, None]) == (b, a)
