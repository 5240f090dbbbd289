"""The fan-out's index gives exactly the answer of the simple rules (trialbot/matching.py),
one subscription at a time, on random subscriptions and trials: countries, radius points near
the poles and the antimeridian, sites with and without coordinates, stroke types, statuses,
chat options and profiles against the facts' windows, ages and populations."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from jobs.fanout import StoredChange, alerts_for, chat_matches
from storage.chats import ActiveSubscription
from trialbot.classification import Classification
from trialbot.facts import TrialFacts
from trialbot.geo import haversine_km
from trialbot.match_index import SubscriptionColumns, SubscriptionIndex, coded
from trialbot.model import FieldChange, Site, Trial

TODAY = date(2026, 12, 4)
COUNTRIES = ["US", "ES", "TW", "FJ", "RU", "NZ", "AQ", ""]
BUCKETS = ["ischemic", "intracerebral_hemorrhage", "subarachnoid_hemorrhage", "stroke_unspecified"]
CITIES = {"Suva": (-18.14, 178.44), "Apia": (-13.83, -171.76), "Alert": (82.5, -62.3)}


def geocode(site: Site) -> tuple[float, float] | None:
    """A stand-in gazetteer: three places, everything else unknown."""
    return CITIES.get(site.city or "")


def index_of(subs: list[ActiveSubscription]) -> SubscriptionIndex:
    """The index as storage builds it, from plain values."""
    conditions, condition_values = coded([frozenset(s.conditions) for s in subs])
    countries, country_values = coded([frozenset(s.countries) for s in subs])
    points, point_values = coded([s.point_country for s in subs])
    return SubscriptionIndex(
        SubscriptionColumns(
            chat_id=[s.chat_id for s in subs],
            subscription_id=[s.id for s in subs],
            held=[s.delivery != "instant" for s in subs],
            include_borderline=[s.include_borderline for s in subs],
            include_not_recruiting=[s.include_not_recruiting for s in subs],
            conditions=conditions,
            conditions_values=condition_values,
            countries=countries,
            countries_values=country_values,
            lat=[s.lat for s in subs],
            lon=[s.lon for s in subs],
            radius_km=[s.radius_km for s in subs],
            point_country=points,
            point_country_values=point_values,
            stroke_day=[s.stroke_date.toordinal() if s.stroke_date else None for s in subs],
            birth_year=[s.birth_year for s in subs],
        )
    )


latitudes = st.one_of(
    st.floats(-90, 90), st.sampled_from([-90.0, 90.0, 89.99, -89.99, 0.0]), st.floats(85, 90)
)
longitudes = st.one_of(
    st.floats(-180, 180), st.sampled_from([-180.0, 180.0, 179.99, -179.99]), st.floats(175, 180)
)
optional_country = st.one_of(st.none(), st.sampled_from(COUNTRIES))


@st.composite
def subscriptions(draw: st.DrawFn) -> list[ActiveSubscription]:
    subs = []
    for i in range(draw(st.integers(0, 30))):
        chat = draw(st.integers(1, 8))
        near = draw(st.booleans())
        subs.append(
            ActiveSubscription(
                chat_id=chat,
                delivery="instant" if chat % 3 else "daily",
                include_borderline=chat % 2 == 0,
                include_not_recruiting=chat % 4 < 2,
                id=100 + i,
                conditions=draw(st.lists(st.sampled_from(BUCKETS[:3]), max_size=3, unique=True)),
                countries=draw(st.lists(st.sampled_from(COUNTRIES), max_size=3, unique=True)),
                lat=draw(latitudes) if near or draw(st.booleans()) else None,
                lon=draw(longitudes) if near else None,
                radius_km=draw(st.sampled_from([0, 1, 50, 300, 1000, 5000, 20000, 21000]))
                if near or draw(st.booleans())
                else None,
                point_country=draw(optional_country),
                label=None,
                place_name=None,
                stroke_date=draw(
                    st.none() | st.dates(TODAY - timedelta(days=2000), TODAY + timedelta(days=3))
                ),
                birth_year=draw(st.none() | st.integers(1900, 2030)),
            )
        )
    return subs


@st.composite
def sites(draw: st.DrawFn) -> Site:
    placed = draw(st.booleans())
    return Site(
        city=draw(st.sampled_from([None, "", " ", "Suva", "Apia", "Alert", "Nowhere"])),
        country=draw(optional_country),
        lat=draw(latitudes) if placed else None,
        lon=draw(longitudes) if placed else None,
    )


@st.composite
def facts(draw: st.DrawFn) -> TrialFacts | None:
    if draw(st.booleans()):
        return None
    low = draw(st.none() | st.floats(0, 3000))
    window = None if low is None else (low, draw(st.none() | st.floats(low, low + 2000)))
    return TrialFacts(
        population=draw(st.sampled_from([None, "adults", "children", "newborns"])),
        age_min_years=draw(st.none() | st.sampled_from([0.0, 17.5, 18.0, 40.0, 65.0])),
        age_max_years=draw(st.none() | st.sampled_from([1.0, 17.0, 18.0, 67.5, 80.0])),
        stroke_window_days=window,
    )


@st.composite
def changes(draw: st.DrawFn) -> StoredChange:
    def trial() -> Trial:
        return Trial(
            registry="ctgov",
            registry_id="NCT00000001",
            url="https://example.org",
            brief_title="t",
            overall_status=draw(st.sampled_from(["RECRUITING", "NOT_YET_RECRUITING", None])),
            sites=tuple(draw(st.lists(sites(), max_size=5))),
        )

    verdict = Classification(
        tier=draw(st.sampled_from(["core", "borderline", "excluded"])),
        buckets=tuple(draw(st.lists(st.sampled_from(BUCKETS), max_size=2, unique=True))),
        stroke_phase="unknown",
        reasons=(),
    )
    previous = trial() if draw(st.booleans()) else None
    return StoredChange(
        trial(),
        verdict,
        trial_id=1,
        version_id=1,
        kind="change" if previous else "new",
        changes=(FieldChange(field="status", kind="status", notable=True),),
        previous=previous,
        facts=draw(facts()),
        previous_facts=draw(facts()),
    )


def indexed(change: StoredChange, subs: list[ActiveSubscription], today: date | None) -> dict:
    found = chat_matches(change, index_of(subs), geocode, today)
    return {
        c: (ids, held)
        for c, held, ids in zip(found.chat_ids, found.held, found.subscription_ids, strict=True)
    }


def simple(change: StoredChange, subs: list[ActiveSubscription], today: date | None) -> dict:
    return {
        a.chat_id: (a.subscription_ids, a.held) for a in alerts_for([change], subs, geocode, today)
    }


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subscriptions(), changes(), st.sampled_from([TODAY, None]))
def test_the_index_matches_exactly_as_the_simple_rules(
    subs: list[ActiveSubscription], change: StoredChange, today: date | None
) -> None:
    expected = simple(change, subs, today)
    event(f"chats alerted: {min(len(expected), 3)}")
    assert indexed(change, subs, today) == expected


def _near(sub_id: int, lat: float, lon: float, radius: float) -> ActiveSubscription:
    return ActiveSubscription(
        chat_id=sub_id, delivery="instant", include_borderline=False,
        include_not_recruiting=False, id=sub_id, conditions=[], countries=[], lat=lat,
        lon=lon, radius_km=radius, point_country="FJ", label=None, place_name=None,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_site_exactly_on_the_edge_is_decided_as_the_simple_rules_do() -> None:
    site = Site(lat=-16.5, lon=179.9, country="FJ")
    points = [(-16.5, -179.95), (-17.0, 179.0), (89.9, 10.0), (16.5, -0.1), (-16.49, 179.9)]
    subs = []
    for i, (lat, lon) in enumerate(points):
        edge = haversine_km(lat, lon, site.lat, site.lon)  # type: ignore[arg-type]
        below = edge - max(edge * 1e-15, 1e-12)
        subs += [_near(10 * i + 1, lat, lon, edge), _near(10 * i + 2, lat, lon, below)]
    change = StoredChange(
        Trial(registry="ctgov", registry_id="NCT1", url="u", brief_title="t",
              overall_status="RECRUITING", sites=(site,)),
        Classification("core", ("ischemic",), "unknown", ()),
        trial_id=1, version_id=1, kind="new",
    )  # fmt: skip
    assert indexed(change, subs, TODAY) == simple(change, subs, TODAY)
    assert len(indexed(change, subs, TODAY)) >= len(points)
