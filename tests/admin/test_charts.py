"""The console's chart geometry (idp.admin.charts): pure functions from figures to SVG
coordinates, checked at their edges."""

from __future__ import annotations

from idp.admin.charts import Bar, Series, bar_chart, column_chart, line_chart, percent


def test_percent_prints_one_or_two_places_and_a_dash_without_items():
    assert percent(66.666) == "66.7%"
    assert percent(66.666, 2) == "66.67%"
    assert percent(None) == "—"


def test_bars_are_scaled_to_the_plot_clamped_and_grouped():
    chart = bar_chart([Bar("广州市", 95.0, 100.0, "珠三角九市"),
                       Bar("清远市", None, None, "粤东西北"),
                       Bar("韶关市", 120.0, -5.0, "粤东西北")], target=90.0)
    assert [h.text for h in chart.headings] == ["珠三角九市", "粤东西北"]
    guangzhou, qingyuan, shaoguan = chart.rows
    assert guangzhou.declared_w == chart.plot_w and guangzhou.verified_w == 0.95 * chart.plot_w
    assert not guangzhou.below_target
    assert (qingyuan.verified_w, qingyuan.verified_text, qingyuan.below_target) == (0, "—", False)
    assert (shaoguan.verified_w, shaoguan.declared_w) == (chart.plot_w, 0)
    assert chart.target_x == chart.plot_x + 0.9 * chart.plot_w
    assert [t.text for t in chart.ticks] == ["0%", "25%", "50%", "75%", "100%"]


def test_a_line_chart_of_one_month_centres_it_and_skips_missing_figures():
    chart = line_chart([Series("清远市 已验证", [("2026-11", 50.0)]),
                        Series("清远市 已申报", [("2026-11", None)], "declared")],
                       [(90.0, "目标 90%")])
    [verified, declared] = chart.lines
    assert verified.points[0].x == chart.plot_x + chart.plot_w / 2
    assert verified.points[0].y == chart.plot_bottom - 0.5 * (chart.plot_bottom - chart.plot_top)
    assert declared.points == [] and declared.path == ""
    assert chart.targets[0].at == chart.plot_bottom - 0.9 * (chart.plot_bottom - chart.plot_top)


def test_columns_scale_to_the_busiest_day_and_an_idle_month_draws_nothing():
    days = [(f"2026-11-{d:02d}", n) for d, n in ((1, 0), (2, 4), (3, 2))]
    chart = column_chart(days)
    assert chart.peak == 4
    assert [round(c.h, 1) for c in chart.columns] == [0.0, 120.0, 60.0]
    idle = column_chart([("2026-11-01", 0)])
    assert idle.peak == 0 and idle.columns[0].h == 0
