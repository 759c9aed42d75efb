"""Unit conversion skill: phrasings, numbers as words and digits, every kind of quantity."""

from __future__ import annotations

import pytest

from voicecli.reply.brain import SkillsBrain
from voicecli.reply.context import Conversation, SkillContext
from voicecli.reply.skills import units


@pytest.mark.parametrize(
    "question, expected",
    [
        ("How many kilometers are in ten miles?", "10 miles is 16.1 kilometers."),
        ("How many kilometers are in 10 miles?", "10 miles is 16.1 kilometers."),
        ("convert ten miles to kilometres", "10 miles is 16.1 kilometers."),
        ("What is 10 mi in km?", "10 miles is 16.1 kilometers."),
        ("ten miles in kilometers", "10 miles is 16.1 kilometers."),
        ("How many feet are in a mile and a half?", "1.5 miles is 7920 feet."),
        ("what is two point five centimeters in inches", "2.5 centimeters is 0.984 inches."),
    ],
)
def test_length(question, expected):
    assert units.answer(question) == expected


@pytest.mark.parametrize(
    "question, expected",
    [
        (
            "seventy two degrees fahrenheit in celsius",
            "72 degrees Fahrenheit is 22.2 degrees Celsius.",
        ),
        (
            "What is 72 degrees Fahrenheit in Celsius?",
            "72 degrees Fahrenheit is 22.2 degrees Celsius.",
        ),
        (
            "what's seventy-two fahrenheit in celsius",
            "72 degrees Fahrenheit is 22.2 degrees Celsius.",
        ),
        ("72°F in °C", "72 degrees Fahrenheit is 22.2 degrees Celsius."),
        ("72 degrees in celsius", "72 degrees Fahrenheit is 22.2 degrees Celsius."),
        ("minus forty celsius in fahrenheit", "-40 degrees Celsius is -40 degrees Fahrenheit."),
        ("-40°C in °F", "-40 degrees Celsius is -40 degrees Fahrenheit."),
        ("what is one hundred degrees celsius in kelvin", "100 degrees Celsius is 373.1 kelvin."),
    ],
)
def test_temperature(question, expected):
    assert units.answer(question) == expected


@pytest.mark.parametrize(
    "question, expected",
    [
        ("How many pounds are in five kilograms?", "5 kilograms is 11 pounds."),
        ("how many ounces in a pound", "1 pound is 16 ounces."),
        ("convert 5 kg to lbs", "5 kilograms is 11 pounds."),
        ("what is five grams in ounces", "5 grams is 0.176 ounces."),
        ("twelve stone in kilograms", "12 stone is 76.2 kilograms."),
        ("half a pound in grams", "0.5 pounds is 226.8 grams."),
    ],
)
def test_mass(question, expected):
    assert units.answer(question) == expected


@pytest.mark.parametrize(
    "question, expected",
    [
        ("how many cups are in a liter", "1 liter is 4.23 cups."),
        ("how many ounces in a cup", "1 cup is 8 fluid ounces."),  # ounce read as a volume
        ("How many liters is two gallons?", "2 gallons is 7.57 liters."),
        ("how many teaspoons in a tablespoon", "1 tablespoon is 3 teaspoons."),
        ("three hundred milliliters in cups", "300 milliliters is 1.27 cups."),
    ],
)
def test_volume(question, expected):
    assert units.answer(question) == expected


@pytest.mark.parametrize(
    "question, expected",
    [
        ("what is 100 km/h in mph", "100 kilometers per hour is 62.1 miles per hour."),
        (
            "sixty miles per hour in kilometers per hour",
            "60 miles per hour is 96.6 kilometers per hour.",
        ),
        ("How fast is 20 knots in miles per hour?", "20 knots is 23 miles per hour."),
        (
            "ten meters per second in kilometers an hour",
            "10 meters per second is 36 kilometers per hour.",
        ),
        ("convert fifty kph to mph", "50 kilometers per hour is 31.1 miles per hour."),
    ],
)
def test_speed(question, expected):
    assert units.answer(question) == expected


@pytest.mark.parametrize(
    "question",
    [
        "I ran 5 miles in 40 minutes",  # one unit only
        "how many miles",  # no quantity
        "What is twelve times eight?",
        "set a timer for five minutes",
        "convert 5 kilograms to miles",  # different kinds
        "what is the weather in London",
    ],
)
def test_not_a_conversion(question):
    assert units.answer(question) is None


def test_round_result_keeps_three_figures_below_ten():
    assert units.round_result(16.0934) == 16.1
    assert units.round_result(2.5401) == 2.54
    assert units.round_result(0.17637) == 0.176
    assert units.round_result(1609.344) == 1609.3
    assert units.round_result(0.0) == 0.0


def test_the_brain_routes_conversions_to_the_skill():
    text = "".join(
        SkillsBrain().reply("How many kilometers are in ten miles?", SkillContext(Conversation()))
    )
    assert text == "10 miles is 16.1 kilometers."
