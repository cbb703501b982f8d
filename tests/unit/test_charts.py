"""web/charts.py: valid SVG, scaling, no style attribute (CSP), accessible names, and odd
data (nothing, zeros, huge or broken values) drawn without an error."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from web.charts import WIDTH, Series, bars, columns, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = ["déc. 25", "janv. 26", "févr. 26", "mars 26", "avr. 26", "mai 26", "juin 26"]
MONTHS += ["juil. 26", "août 26", "sept. 26", "oct. 26", "nov. 26"]


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own output, not untrusted input


def rects(root: ET.Element) -> list[ET.Element]:
    """The bars (legend swatches are 12 × 12 at the top; bars are drawn below them)."""
    return [r for r in root.iter(f"{SVG}rect") if float(r.get("y")) > 2]


def check_common(root: ET.Element, chart_id: str, title: str) -> None:
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{chart_id}-title"
    assert root.get("aria-describedby") == f"{chart_id}-desc"
    assert root.find(f"{SVG}title").text == title
    assert root.find(f"{SVG}desc").text
    x, y, width, height = (float(part) for part in root.get("viewBox").split())
    assert (x, y, width) == (0, 0, WIDTH) and height > 0
    assert root.get("width") is None and root.get("height") is None  # CSS scales it
    for element in root.iter():
        assert "style" not in element.attrib, element.tag  # the CSP forbids inline styles
        for name in ("x", "y", "width", "height"):
            if name in element.attrib:
                assert math.isfinite(float(element.get(name)))


def test_columns_for_twelve_months_with_two_series():
    contacts = [3, 4, 5, 0, 1, 2, 3, 4, 5, 6, 7, 12]
    people = [1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8]
    markup = columns(
        "chart-contacts",
        "Contacts & people <12 months>",
        MONTHS,
        [Series("Contacts", contacts), Series("Distinct people", people)],
    )
    root = parse(markup)
    check_common(root, "chart-contacts", "Contacts & people <12 months>")
    bars_drawn = rects(root)
    assert len(bars_drawn) == 22  # 24 values, two of them zero
    tallest = max(bars_drawn, key=lambda r: float(r.get("height")))
    # Bars share one baseline and scale with the values.
    bottoms = {round(float(r.get("y")) + float(r.get("height")), 2) for r in bars_drawn}
    assert len(bottoms) == 1
    twelve = [r for r in bars_drawn if r.get("fill") == "#0b5d57"]
    assert float(tallest.get("height")) == pytest.approx(
        max(float(r.get("height")) for r in twelve)
    )
    # The second series is told apart by a pattern, not only a colour; a legend names both.
    assert any(r.get("fill", "").startswith("url(#chart-contacts-p1)") for r in bars_drawn)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Contacts" in texts and "Distinct people" in texts
    assert "janv. 26" in texts
    # Month names turned 45° start inside the box (the first one reaches furthest left).
    first = next(t for t in root.iter(f"{SVG}text") if t.text == "déc. 25")
    assert "rotate(-45" in first.get("transform")
    assert float(first.get("x")) - len("déc. 25") * 13 * 0.6 * 0.71 >= 0
    # The description spells the figures out.
    desc = root.find(f"{SVG}desc").text
    assert "nov. 26: Contacts 12, Distinct people 8" in desc


def test_columns_proportional_heights():
    root = parse(columns("c", "T", ["a", "b", "c"], [Series("S", [10, 5, 0])]))
    heights = [float(r.get("height")) for r in rects(root)]
    assert len(heights) == 2
    assert heights[0] == pytest.approx(2 * heights[1], rel=0.02)
    values = [t.text for t in root.iter(f"{SVG}text")]
    assert "10" in values and "5" in values and "0" in values  # values written on the bars


def test_bars_for_categories_with_long_labels():
    label = "In insecure accommodation (with friends, no tenancy, squat) and more words here"
    root = parse(bars("chart-ethos", "ETHOS", [(label, 3), ("Living rough", 1), ("None", 0)]))
    check_common(root, "chart-ethos", "ETHOS")
    drawn = [r for r in root.iter(f"{SVG}rect")]
    assert len(drawn) == 2
    widths = sorted(float(r.get("width")) for r in drawn)
    assert widths[1] == pytest.approx(3 * widths[0], abs=0.05)
    assert all(float(r.get("x")) + float(r.get("width")) <= WIDTH for r in drawn)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert any(text.endswith("…") for text in texts)  # cut to the width; whole in desc
    assert label in root.find(f"{SVG}desc").text


@pytest.mark.parametrize("chart", ["columns", "bars"])
def test_empty_data_draws_a_message(chart):
    markup = (
        columns("e", "Nothing", [], [Series("S", [])], empty="No data")
        if chart == "columns"
        else bars("e", "Nothing", [], empty="No data")
    )
    root = parse(markup)
    assert root.get("role") == "img"
    assert [t.text for t in root.iter(f"{SVG}text")] == ["No data"]
    assert not list(root.iter(f"{SVG}rect"))


def test_all_zero_values_draw_an_axis_and_no_bar():
    root = parse(columns("z", "Zero", ["a", "b"], [Series("S", [0, 0])]))
    assert not rects(root)
    assert list(root.iter(f"{SVG}line"))
    root = parse(bars("z", "Zero", [("a", 0), ("b", 0)]))
    assert not list(root.iter(f"{SVG}rect"))


def test_huge_and_broken_values():
    huge = 10**15
    root = parse(
        columns(
            "h",
            "Huge",
            ["a", "b", "c", "d"],
            [Series("S", [huge, float("nan"), -5, float("inf")])],
            number=lambda v: f"{v:,.0f}",
        )
    )
    drawn = rects(root)
    assert len(drawn) == 1  # NaN, negative and infinite count as 0
    top = min(float(line.get("y1")) for line in root.iter(f"{SVG}line"))
    assert float(drawn[0].get("y")) >= top - 0.01  # inside the plot
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "1,000,000,000,000,000" in labels
    root = parse(bars("h", "Huge", [("a", huge), ("b", 1)]))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert max(widths) <= WIDTH


def test_text_is_escaped_and_ids_are_safe():
    markup = columns('x" onload="alert(1)', "<script>", ["<b>"], [Series("&", [1])])
    root = parse(markup)
    assert root.get("id") == "x--onload--alert-1-"
    assert root.find(f"{SVG}title").text == "<script>"
    assert "<script>" not in str(markup)


@pytest.mark.parametrize(
    ("top", "expected"),
    [(0, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]), (100, [0, 25, 50, 75, 100])],
)
def test_nice_ticks(top, expected):
    assert nice_ticks(top) == expected


def test_nice_ticks_for_fractions_and_huge_numbers():
    assert nice_ticks(0.9, integers=False) == [0, 0.25, 0.5, 0.75, 1.0]
    ticks = nice_ticks(123_456_789)
    assert ticks[-1] >= 123_456_789 and len(ticks) <= 6
