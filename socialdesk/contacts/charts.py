"""The geometry of the profile's sentiment chart: numbers for the template's SVG,
which draws them with SVG attributes only (the page's CSP allows no style attributes)."""

BAR_WIDTH = 22
GAP = 8
PLOT_HEIGHT = 140
TOP = 10  # room for the top label
LEFT = 28  # room for the axis labels
BOTTOM = 18
# Fill colours with at least 3:1 contrast against the white page (WCAG non-text
# contrast); the table beside the chart carries the same numbers as text.
COLOURS = {"positive": "#1a7f37", "neutral": "#6e7781", "negative": "#c62828"}


def sentiment_chart(weeks: list[dict]) -> dict | None:
    """Stacked bars, one per week: negative at the bottom, then neutral, then positive."""
    if not weeks:
        return None
    top = max(week["total"] for week in weeks) or 1
    bars = []
    for i, week in enumerate(weeks):
        x = LEFT + GAP + i * (BAR_WIDTH + GAP)
        y = TOP + PLOT_HEIGHT
        segments = []
        for sentiment in ("negative", "neutral", "positive"):
            count = week[sentiment]
            if not count:
                continue
            height = round(count / top * PLOT_HEIGHT, 1)
            y = round(y - height, 1)
            segments.append({"y": y, "height": height, "fill": COLOURS[sentiment],
                             "label": f"{count} {sentiment}"})
        bars.append({"x": x, "segments": segments, "week": week["week"],
                     "label_x": x + BAR_WIDTH / 2})
    return {"bars": bars, "width": LEFT + GAP + len(weeks) * (BAR_WIDTH + GAP),
            "height": TOP + PLOT_HEIGHT + BOTTOM, "baseline": TOP + PLOT_HEIGHT, "top_y": TOP,
            "top": top, "bar_width": BAR_WIDTH, "left": LEFT, "colours": COLOURS,
            "axis_y": TOP + PLOT_HEIGHT + 13}
