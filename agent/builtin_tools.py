"""The built-in tools' functions: deterministic, offline, and fast.

The data are fixed tables shipped with the harness, not live facts: ``get_weather``
always answers the same for a city, and ``country_info`` answers from its own table,
so a run's scores are reproducible. The default task set's expected answers are
computed from these tables.
"""

from __future__ import annotations

import json
from datetime import date

from agent.calculator import evaluate, format_number

# --- calculator ---------------------------------------------------------------------


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression (``+ - * / // % **``, parentheses, sqrt, round...)."""
    return format_number(evaluate(expression))


# --- unit conversion --------------------------------------------------------------------

# unit -> (dimension, factor to the dimension's base unit)
_LINEAR_UNITS: dict[str, tuple[str, float]] = {
    "m": ("length", 1.0),
    "km": ("length", 1000.0),
    "cm": ("length", 0.01),
    "mm": ("length", 0.001),
    "mi": ("length", 1609.344),
    "yd": ("length", 0.9144),
    "ft": ("length", 0.3048),
    "in": ("length", 0.0254),
    "kg": ("mass", 1.0),
    "g": ("mass", 0.001),
    "mg": ("mass", 1e-6),
    "lb": ("mass", 0.45359237),
    "oz": ("mass", 0.028349523125),
    "s": ("time", 1.0),
    "min": ("time", 60.0),
    "h": ("time", 3600.0),
    "day": ("time", 86400.0),
    "week": ("time", 604800.0),
    "l": ("volume", 1.0),
    "ml": ("volume", 0.001),
    "gal": ("volume", 3.785411784),
    "m/s": ("speed", 1.0),
    "km/h": ("speed", 1000.0 / 3600.0),
    "mph": ("speed", 1609.344 / 3600.0),
}
_TEMPERATURES = ("c", "f", "k")
_ALIASES = {
    "meter": "m", "meters": "m", "metre": "m", "metres": "m",
    "kilometer": "km", "kilometers": "km", "kilometre": "km", "kilometres": "km",
    "centimeter": "cm", "centimeters": "cm", "millimeter": "mm", "millimeters": "mm",
    "mile": "mi", "miles": "mi", "yard": "yd", "yards": "yd",
    "foot": "ft", "feet": "ft", "inch": "in", "inches": "in",
    "kilogram": "kg", "kilograms": "kg", "gram": "g", "grams": "g", "milligram": "mg", "milligrams": "mg",
    "pound": "lb", "pounds": "lb", "lbs": "lb", "ounce": "oz", "ounces": "oz",
    "second": "s", "seconds": "s", "sec": "s", "minute": "min", "minutes": "min",
    "hour": "h", "hours": "h", "hr": "h", "days": "day", "weeks": "week",
    "liter": "l", "liters": "l", "litre": "l", "litres": "l", "milliliter": "ml", "milliliters": "ml",
    "gallon": "gal", "gallons": "gal",
    "kph": "km/h", "kmh": "km/h", "kilometers per hour": "km/h", "miles per hour": "mph",
    "celsius": "c", "°c": "c", "fahrenheit": "f", "°f": "f", "kelvin": "k",
}  # fmt: skip


def _unit(name: str) -> str:
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _LINEAR_UNITS and key not in _TEMPERATURES:
        known = sorted(set(_LINEAR_UNITS) | {"C", "F", "K"})
        raise ValueError(f"unknown unit {name!r}; known units: {', '.join(known)}")
    return key


def _to_celsius(value: float, unit: str) -> float:
    return {"c": value, "f": (value - 32) * 5 / 9, "k": value - 273.15}[unit]


def _from_celsius(value: float, unit: str) -> float:
    return {"c": value, "f": value * 9 / 5 + 32, "k": value + 273.15}[unit]


def convert_units(value: float, from_unit: str, to_unit: str) -> str:
    """Convert a quantity between units of length, mass, time, volume, speed or temperature."""
    source, target = _unit(from_unit), _unit(to_unit)
    if source in _TEMPERATURES or target in _TEMPERATURES:
        if not (source in _TEMPERATURES and target in _TEMPERATURES):
            raise ValueError(f"cannot convert {from_unit} to {to_unit}")
        result = _from_celsius(_to_celsius(float(value), source), target)
    else:
        (dim_a, factor_a), (dim_b, factor_b) = _LINEAR_UNITS[source], _LINEAR_UNITS[target]
        if dim_a != dim_b:
            raise ValueError(f"cannot convert {from_unit} ({dim_a}) to {to_unit} ({dim_b})")
        result = float(value) * factor_a / factor_b
    return format_number(round(result, 6))


# --- fixed lookup tables ------------------------------------------------------------------

COUNTRIES: dict[str, dict[str, object]] = {
    "france": {"capital": "Paris", "currency": "Euro", "continent": "Europe", "population_millions": 68.4},
    "germany": {"capital": "Berlin", "currency": "Euro", "continent": "Europe", "population_millions": 84.5},
    "japan": {"capital": "Tokyo", "currency": "Yen", "continent": "Asia", "population_millions": 124.5},
    "canada": {"capital": "Ottawa", "currency": "Canadian dollar", "continent": "North America", "population_millions": 40.1},
    "brazil": {"capital": "Brasília", "currency": "Real", "continent": "South America", "population_millions": 203.1},
    "australia": {"capital": "Canberra", "currency": "Australian dollar", "continent": "Oceania", "population_millions": 26.6},
    "kenya": {"capital": "Nairobi", "currency": "Kenyan shilling", "continent": "Africa", "population_millions": 55.1},
    "india": {"capital": "New Delhi", "currency": "Indian rupee", "continent": "Asia", "population_millions": 1428.6},
    "mexico": {"capital": "Mexico City", "currency": "Mexican peso", "continent": "North America", "population_millions": 128.5},
    "united kingdom": {"capital": "London", "currency": "Pound sterling", "continent": "Europe", "population_millions": 68.3},
    "egypt": {"capital": "Cairo", "currency": "Egyptian pound", "continent": "Africa", "population_millions": 112.7},
    "norway": {"capital": "Oslo", "currency": "Norwegian krone", "continent": "Europe", "population_millions": 5.5},
}  # fmt: skip
_COUNTRY_ALIASES = {"uk": "united kingdom", "britain": "united kingdom", "great britain": "united kingdom"}


def country_info(country: str) -> str:
    """Capital, currency, continent and population (millions) of a country, from a fixed table."""
    key = str(country).strip().lower()
    key = _COUNTRY_ALIASES.get(key, key)
    if key not in COUNTRIES:
        raise ValueError(f"no entry for {country!r}; known countries: {', '.join(sorted(COUNTRIES))}")
    return json.dumps({"country": key.title(), **COUNTRIES[key]}, ensure_ascii=False)


WEATHER: dict[str, dict[str, object]] = {
    "paris": {"temperature_c": 22, "condition": "sunny", "humidity_percent": 45},
    "london": {"temperature_c": 15, "condition": "rainy", "humidity_percent": 80},
    "tokyo": {"temperature_c": 25, "condition": "cloudy", "humidity_percent": 65},
    "new york": {"temperature_c": 18, "condition": "windy", "humidity_percent": 55},
    "sydney": {"temperature_c": 28, "condition": "sunny", "humidity_percent": 50},
    "oslo": {"temperature_c": 4, "condition": "snowy", "humidity_percent": 85},
    "nairobi": {"temperature_c": 24, "condition": "partly cloudy", "humidity_percent": 60},
}


def get_weather(city: str) -> str:
    """Current weather of a city from a fixed table (the same answer every time)."""
    key = str(city).split(",")[0].strip().lower()
    if key not in WEATHER:
        raise ValueError(f"no weather for {city!r}; known cities: {', '.join(sorted(WEATHER))}")
    return json.dumps({"city": key.title(), **WEATHER[key]})


# --- dates ----------------------------------------------------------------------------------


def days_between(start_date: str, end_date: str) -> str:
    """Days from ``start_date`` to ``end_date`` (ISO ``YYYY-MM-DD``); negative when the end comes first."""
    try:
        start, end = date.fromisoformat(str(start_date).strip()), date.fromisoformat(str(end_date).strip())
    except ValueError:
        raise ValueError(f"dates must be YYYY-MM-DD, got {start_date!r} and {end_date!r}") from None
    return str((end - start).days)
