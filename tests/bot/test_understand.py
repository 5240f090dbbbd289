"""Free sentences in English, Spanish and Chinese read into a proposed subscription, and the
ones that must not become one."""

from __future__ import annotations

import pytest

from bot.parsing import ALL, ICH, ISCHEMIC, SAH, Radius
from bot.understand import Since, chinese_number, understand


@pytest.mark.parametrize(
    ("text", "conditions", "place", "countries"),
    [
        ("i had a stroke 2 years ago are there stem cell trials near columbus ohio", ALL,
         "columbus ohio", ()),
        ("I'm 68 and had an ISCHEMIC stroke last year. Trials within 100 miles of Columbus, OH?",
         ISCHEMIC, "columbus oh", ()),
        ("trials near me for my mom who had a brain bleed", ICH, None, ()),
        ("any trials in spain or portugal for subarachnoid hemorrhage", SAH, None, ("ES", "PT")),
        ("SAH near Boston 50 mi", SAH, "boston", ()),
        ("Stroke trials in the US??", ALL, None, ("US",)),
        ("100 miles from Denver stroke", ALL, "denver", ()),
        ("I live in Columbus Ohio", frozenset(), "columbus ohio", ()),
        ("ictus hemorrágico cerca de Sevilla", ICH, "sevilla", ()),
        ("Tengo 68 años, tuve un ictus hace 2 años. ¿Hay ensayos en España?", ALL, None, ("ES",)),
        ("Mi padre tiene 70 años y sufrió un derrame cerebral, vivimos en Madrid", ALL,
         "madrid", ()),
        ("hemorragia subaracnoidea en México hace 3 meses", SAH, None, ("MX",)),
        ("ICTUS ISQUÉMICO cerca de mí", ISCHEMIC, None, ()),
        ("缺血中国", ISCHEMIC, None, ("CN",)),
        ("缺血 中国", ISCHEMIC, None, ("CN",)),
        ("出血北京附近100公里", ICH, "北京", ()),
        ("我爸爸68岁，两年前脑梗，北京附近有没有干细胞试验？", ISCHEMIC, "北京", ()),
        ("蛛网膜下腔出血 上海", SAH, "上海", ()),
        ("我附近有没有中风的试验", ALL, None, ()),
    ],
)  # fmt: skip
def test_sentences_become_proposals(
    text: str, conditions: frozenset[str], place: str | None, countries: tuple[str, ...]
) -> None:
    understood = understand(text)
    assert understood.wants_alerts, understood
    assert understood.conditions == conditions
    assert understood.place == place
    assert understood.countries == countries


@pytest.mark.parametrize(
    "text",
    [
        "what is a stem cell?",
        "is this legit??",
        "what's the weather in London",
        "I love my dad",
        "thank you!",
        "hello",
        "are there any updates",  # "any" is not a stroke type in a sentence
        "can you help us",  # a lone lowercase "us" is not the United States
        "I had a heart attack (infarto) last year",
        "reading the news in the morning",
        "",
        "🙂🙂",
    ],
)
def test_what_must_not_become_a_subscription(text: str) -> None:
    assert not understand(text).wants_alerts


@pytest.mark.parametrize(
    ("text", "near_me"),
    [
        ("stem cell trials near me", True),
        ("any studies nearby? stroke", True),
        ("ictus cerca de mí", True),
        ("ensayos de ictus en mi zona", True),
        ("我附近有没有中风的试验", True),
        ("stroke near Madrid", False),
    ],
)
def test_near_me_asks_for_a_pin(text: str, near_me: bool) -> None:
    assert understand(text).near_me is near_me


@pytest.mark.parametrize(
    ("text", "radius"),
    [
        ("stroke near Madrid 100 km", Radius(100, "km")),
        ("stroke within 100 miles of Columbus", Radius(100, "mi")),
        ("stroke near Boston 100mi", Radius(100, "mi")),
        ("ictus a 100 millas de Sevilla", Radius(100, "mi")),
        ("中风 北京 50英里", Radius(50, "mi")),
        ("中风 北京附近200公里", Radius(200, "km")),
        ("I had a stroke 2 years ago near Madrid", None),  # years are not a distance
    ],
)
def test_distances_keep_their_unit(text: str, radius: Radius | None) -> None:
    assert understand(text).radius == radius


def test_a_distance_out_of_range_is_reported_not_used() -> None:
    understood = understand("STROKE NEAR MADRID 5000 KM")
    assert understood.radius is None and understood.bad_distance == "5000 km"


@pytest.mark.parametrize(
    ("text", "since"),
    [
        ("I had a stroke 2 years ago", Since(2, "year")),
        ("my dad had a stroke three weeks ago", Since(3, "week")),
        ("stroke a year ago", Since(1, "year")),
        ("6 months post-stroke, looking for trials", Since(6, "month")),
        ("ischemic stroke last month", Since(1, "month")),
        ("I had a stroke in 2021", Since(year=2021)),
        ("tuve un ictus hace 2 años", Since(2, "year")),
        ("ictus hace unos tres meses", Since(3, "month")),
        ("ictus el año pasado", Since(1, "year")),
        ("两年前中风", Since(2, "year")),
        ("6个月前脑出血", Since(6, "month")),
        ("去年中风", Since(1, "year")),
        ("stroke near Madrid", None),
    ],
)
def test_time_since_the_stroke(text: str, since: Since | None) -> None:
    assert understand(text).since == since


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("I am 68 and had a stroke", 68),
        ("i'm 68, stroke 2 years ago", 68),
        ("68 years old, stroke", 68),
        ("my father is 81 and had a stroke", 81),
        ("a 72-year-old man with stroke", 72),
        ("tengo 68 años y tuve un ictus", 68),
        ("mi madre tiene 75 años, ictus", 75),
        ("我68岁，中风", 68),
        ("我爸爸六十八岁了，脑梗", 68),
        ("I'm 2 years post stroke", None),  # a time, not an age
        ("tuve un ictus hace 2 años", None),
        ("I am 500", None),
    ],
)
def test_age(text: str, age: int | None) -> None:
    assert understand(text).age == age


@pytest.mark.parametrize(
    "text", ["hi", "Hello!", "hey there", "good morning", "hola", "Buenas tardes", "¡Hola!",
             "你好", "您好！"]
)  # fmt: skip
def test_greetings(text: str) -> None:
    understood = understand(text)
    assert understood.greeting and not understood.anything


def test_greeting_with_a_request_is_a_request() -> None:
    understood = understand("hi, any stroke trials near Madrid?")
    assert understood.greeting and understood.wants_alerts and understood.place == "madrid"


def test_thanks() -> None:
    assert understand("thanks!").thanks and understand("muchas gracias").thanks
    assert understand("谢谢").thanks


def test_named_types_win_over_the_generic_word() -> None:
    assert understand("hemorrhagic stroke near Madrid").conditions == ICH
    assert understand("ischemic and hemorrhagic stroke").conditions == ISCHEMIC | ICH
    assert understand("stroke").conditions == ALL


def test_chinese_numbers() -> None:
    assert [chinese_number(s) for s in ("两", "十二", "六十八", "一百", "7")] == [2, 12, 68, 100, 7]
