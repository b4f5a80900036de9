//! Charts as small SVG documents drawn on the server, inline in the page: no JavaScript,
//! readable on a slow connection. Three kinds: lines on a 0–1 scale (the reintegration
//! scores: the follow-up page and the dashboards), horizontal bars (a count or an amount
//! per stage, outcome, kind or category) and columns (one or two counts per month).
//!
//! Every chart is `role="img"` with its title as `aria-label` and as `<title>`; the page
//! puts the same numbers in a table beside it for screen readers (and for anyone who wants
//! the exact figures). A value that is not shown (a small cell on a cross-organisation
//! dashboard) is drawn as no bar, its text ("< 11") where the bar would end.
//!
//! No chart crate: `plotters` (0.3.7) with only its SVG backend would give neither the
//! `<title>` nor `role`, writes its colours as inline styles (the stylesheet could not
//! theme them), and without its `ttf` feature only estimates text widths; what is needed
//! here is rectangles, polylines and text on a grid, about three hundred lines with their
//! tests.

use std::fmt::Write;

/// Escape text for SVG (XML).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The opening tag and title of a chart of this size.
fn open(s: &mut String, w: f64, h: f64, title: &str) {
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = esc(title)
    );
}

/// A label of one or more lines (split on `\n`), centred on `x`, its first line at `y`.
fn label_lines(s: &mut String, x: f64, y: f64, label: &str) {
    if !label.contains('\n') {
        let _ = write!(
            s,
            r#"<text class="axis" x="{x:.1}" y="{y:.1}" text-anchor="middle">{}</text>"#,
            esc(label)
        );
        return;
    }
    let _ = write!(
        s,
        r#"<text class="axis" x="{x:.1}" y="{y:.1}" text-anchor="middle">"#
    );
    for (k, line) in label.split('\n').enumerate() {
        let dy = if k == 0 { 0.0 } else { 12.0 };
        let _ = write!(s, r#"<tspan x="{x:.1}" dy="{dy}">{}</tspan>"#, esc(line));
    }
    s.push_str("</text>");
}

// ---- Lines on a 0–1 scale --------------------------------------------------------------

/// One series: its css class (colour), its label (already translated) and its points
/// (`None` where there is no value).
pub struct Series<'a> {
    pub class: &'a str,
    pub label: String,
    pub points: Vec<Option<f64>>,
}

const W: f64 = 560.0;
const H: f64 = 220.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 110.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 34.0;

/// Lines on a 0–1 scale: x = the points in order (labelled by `dates`; a label may have
/// two lines, split on `\n`), y = 0–1. A gap breaks a line. `title` is the accessible
/// name.
pub fn scores_svg(title: &str, dates: &[String], series: &[Series<'_>]) -> String {
    let n = dates.len().max(1);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, 1.0));
    let mut s = String::new();
    open(&mut s, W, H, title);
    // Grid and the y axis: 0, 0.25, … 1.
    for k in 0..=4 {
        let v = f64::from(k) / 4.0;
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{v:.2}</text>"#,
            LEFT + plot_w,
            LEFT - 4.0,
            yy + 4.0
        );
    }
    for (i, d) in dates.iter().enumerate() {
        label_lines(&mut s, x(i), H - BOTTOM + 16.0, d);
    }
    for (k, se) in series.iter().enumerate() {
        // Runs of consecutive points with a score are joined; a gap breaks the line.
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
        for (i, p) in se.points.iter().enumerate() {
            match p {
                Some(v) => run.push((x(i), y(*v))),
                None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                None => {}
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        let class = esc(se.class);
        for r in &runs {
            if r.len() > 1 {
                let pts: Vec<String> = r.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
                let _ = write!(
                    s,
                    r#"<polyline class="line {class}" fill="none" points="{}"/>"#,
                    pts.join(" ")
                );
            }
            for (a, b) in r {
                let _ = write!(
                    s,
                    r#"<circle class="dot {class}" cx="{a:.1}" cy="{b:.1}" r="3"/>"#
                );
            }
        }
        // The legend, on the right.
        let ly = TOP + 14.0 + 18.0 * k as f64;
        let lx = W - RIGHT + 10.0;
        let _ = write!(
            s,
            r#"<line class="line {class}" x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/><text class="legend" x="{:.1}" y="{ly:.1}">{}</text>"#,
            ly - 4.0,
            lx + 14.0,
            ly - 4.0,
            lx + 18.0,
            esc(&se.label)
        );
    }
    s.push_str("</svg>");
    s
}

// ---- Bars and columns -------------------------------------------------------------------

/// The colours of bar series (as attributes, so that they show without the stylesheet).
const FILLS: [&str; 4] = ["#1f6fb4", "#d9730d", "#2e8b57", "#6a3d9a"];

/// One horizontal bar: its label, its length (`None`: not shown, no bar) and the text
/// written at its end (the count, "< 11", an amount).
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub text: String,
}

const BAR_W: f64 = 560.0;
const BAR_TEXT: f64 = 110.0;
const BAR_ROW: f64 = 22.0;
const BAR_THICK: f64 = 14.0;

/// Horizontal bars, one per row, scaled to the largest value.
pub fn bars_svg(title: &str, bars: &[Bar]) -> String {
    let h = BAR_ROW * bars.len().max(1) as f64 + 8.0;
    // Room for the longest label (about 6 px a character at 11 px), within bounds.
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0);
    let label_w = (longest as f64 * 6.0 + 12.0).clamp(90.0, 300.0);
    let span = BAR_W - label_w - BAR_TEXT;
    let max = bars.iter().filter_map(|b| b.value).fold(0.0_f64, f64::max);
    let mut s = String::new();
    open(&mut s, BAR_W, h, title);
    for (i, b) in bars.iter().enumerate() {
        let top = 4.0 + BAR_ROW * i as f64;
        let mid = top + BAR_ROW / 2.0 + 4.0;
        let _ = write!(
            s,
            r#"<text class="axis" x="{:.1}" y="{mid:.1}" text-anchor="end">{}</text>"#,
            label_w - 6.0,
            esc(&b.label)
        );
        let len = match b.value {
            Some(v) if max > 0.0 && v > 0.0 => (span * v / max).max(1.0),
            _ => 0.0,
        };
        if len > 0.0 {
            let _ = write!(
                s,
                r#"<rect class="bar s0" x="{label_w:.1}" y="{:.1}" width="{len:.1}" height="{BAR_THICK}" fill="{}"/>"#,
                top + (BAR_ROW - BAR_THICK) / 2.0,
                FILLS[0]
            );
        }
        let _ = write!(
            s,
            r#"<text class="value" x="{:.1}" y="{mid:.1}">{}</text>"#,
            label_w + len + 5.0,
            esc(&b.text)
        );
    }
    s.push_str("</svg>");
    s
}

/// One series of columns: its label (the legend) and one value per column (`None`: not
/// shown, no column; `hidden` is written there instead, e.g. "< 11").
pub struct Columns {
    pub label: String,
    pub values: Vec<Option<f64>>,
}

const COL_W: f64 = 560.0;
const COL_H: f64 = 200.0;
const COL_LEFT: f64 = 44.0;
const COL_RIGHT: f64 = 8.0;
const COL_TOP: f64 = 24.0;
const COL_BOTTOM: f64 = 34.0;

/// A "nice" top of the scale at or above `max` and its step (1, 2 or 5 times a power of
/// ten, at least 1: columns count things or whole amounts) for about four grid lines.
pub fn nice_scale(max: f64) -> (f64, f64) {
    if max.is_nan() || max <= 0.0 {
        return (4.0, 1.0);
    }
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
        .max(1.0);
    let top = (max / step).ceil() * step;
    (top.max(step), step)
}

/// A number for an axis: whole when it is, else one decimal.
fn tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Columns, grouped per label (x), one colour per series, over a y scale from 0; a
/// legend above when there is more than one series; `hidden` written where a value is not
/// shown.
pub fn columns_svg(title: &str, labels: &[String], series: &[Columns], hidden: &str) -> String {
    let n = labels.len().max(1);
    let plot_w = COL_W - COL_LEFT - COL_RIGHT;
    let plot_h = COL_H - COL_TOP - COL_BOTTOM;
    let max = series
        .iter()
        .flat_map(|c| c.values.iter().flatten())
        .fold(0.0_f64, |a, b| a.max(*b));
    let (top, step) = nice_scale(max);
    let y = |v: f64| COL_TOP + plot_h * (1.0 - (v / top).clamp(0.0, 1.0));
    let slot = plot_w / n as f64;
    let k = series.len().max(1) as f64;
    let col = (slot * 0.8 / k).min(18.0);
    let mut s = String::new();
    open(&mut s, COL_W, COL_H, title);
    let mut v = 0.0;
    while v <= top + step / 2.0 {
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{COL_LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            COL_LEFT + plot_w,
            COL_LEFT - 4.0,
            yy + 4.0,
            tick(v)
        );
        v += step;
    }
    for (i, l) in labels.iter().enumerate() {
        label_lines(
            &mut s,
            COL_LEFT + slot * (i as f64 + 0.5),
            COL_H - COL_BOTTOM + 14.0,
            l,
        );
    }
    for (j, c) in series.iter().enumerate() {
        let fill = FILLS[j % FILLS.len()];
        for (i, value) in c.values.iter().enumerate().take(n) {
            let x = COL_LEFT + slot * (i as f64 + 0.5) - col * k / 2.0 + col * j as f64;
            match value {
                Some(v) if *v > 0.0 => {
                    let yy = y(*v);
                    let _ = write!(
                        s,
                        r#"<rect class="bar s{j}" x="{x:.1}" y="{yy:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/>"#,
                        (col - 1.0).max(1.0),
                        COL_TOP + plot_h - yy
                    );
                }
                Some(_) => {}
                None => {
                    let _ = write!(
                        s,
                        r#"<text class="hidden" x="{:.1}" y="{:.1}" text-anchor="middle" font-size="8">{}</text>"#,
                        x + col / 2.0,
                        COL_TOP + plot_h - 3.0 - 9.0 * j as f64,
                        esc(hidden)
                    );
                }
            }
        }
        if series.len() > 1 {
            let lx = COL_LEFT + 150.0 * j as f64;
            let _ = write!(
                s,
                r#"<rect class="bar s{j}" x="{lx:.1}" y="4" width="10" height="10" fill="{fill}"/><text class="legend" x="{:.1}" y="13">{}</text>"#,
                lx + 14.0,
                esc(&c.label)
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_draws_one_line_per_series_with_a_point_per_score_and_escapes_labels() {
        let svg = scores_svg(
            "Scores <over> time",
            &["2026-01-01".into(), "2026-04-01".into()],
            &[
                Series {
                    class: "economic",
                    label: "Economic & work".into(),
                    points: vec![Some(0.5), Some(0.75)],
                },
                Series {
                    class: "social",
                    label: "Social".into(),
                    points: vec![None, Some(0.25)],
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>Scores &lt;over&gt; time</title>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("Economic &amp; work"));
        // Two points of the economic line joined, one lone social point without a line.
        assert_eq!(svg.matches(r#"<polyline class="line economic""#).count(), 1);
        assert_eq!(svg.matches(r#"<polyline class="line social""#).count(), 0);
        assert_eq!(svg.matches(r#"<circle class="dot social""#).count(), 1);
        // 0.75 sits a quarter of the plot below the top: y = 12 + 174 * 0.25 = 55.5.
        assert!(svg.contains(r#"cy="55.5""#), "{svg}");
    }

    #[test]
    fn bars_are_as_long_as_their_share_of_the_largest_and_hidden_ones_are_not_drawn() {
        let svg = bars_svg(
            "Cases by stage",
            &[
                Bar {
                    label: "Referred".into(),
                    value: Some(40.0),
                    text: "40".into(),
                },
                Bar {
                    label: "Screening".into(),
                    value: Some(10.0),
                    text: "10".into(),
                },
                Bar {
                    label: "Protection".into(),
                    value: None,
                    text: "< 11".into(),
                },
                Bar {
                    label: "Closed".into(),
                    value: Some(0.0),
                    text: "0".into(),
                },
            ],
        );
        assert!(svg.contains("<title>Cases by stage</title>"));
        assert_eq!(svg.matches("<rect ").count(), 2, "{svg}");
        // Labels of at most 10 characters take the least room, 90: the span is
        // 560 − 90 − 110 = 360; 40 is 360 long, 10 a quarter of it.
        assert!(svg.contains(r#"x="90.0""#), "{svg}");
        assert!(svg.contains(r#"width="360.0""#), "{svg}");
        assert!(svg.contains(r#"width="90.0""#), "{svg}");
        assert!(svg.contains("&lt; 11"));
        // All hidden or zero: no bar, no division by zero.
        let none = bars_svg(
            "x",
            &[Bar {
                label: "a".into(),
                value: None,
                text: "< 11".into(),
            }],
        );
        assert_eq!(none.matches("<rect ").count(), 0);
    }

    #[test]
    fn columns_share_one_scale_and_write_what_is_hidden() {
        let labels: Vec<String> = vec!["01\n2026".into(), "02".into(), "03".into()];
        let svg = columns_svg(
            "Visits",
            &labels,
            &[
                Columns {
                    label: "done".into(),
                    values: vec![Some(8.0), Some(0.0), None],
                },
                Columns {
                    label: "missed".into(),
                    values: vec![Some(2.0), Some(4.0), Some(1.0)],
                },
            ],
            "< 11",
        );
        assert_eq!(
            svg.matches(r#"<rect class="bar s0""#).count(),
            2,
            "one + legend"
        );
        assert_eq!(
            svg.matches(r#"<rect class="bar s1""#).count(),
            4,
            "three + legend"
        );
        assert_eq!(svg.matches("&lt; 11").count(), 1);
        assert!(
            svg.contains(r#"<tspan x="128.7" dy="12">2026</tspan>"#),
            "{svg}"
        );
        assert_eq!(nice_scale(8.0), (8.0, 2.0));
        assert_eq!(nice_scale(0.0), (4.0, 1.0));
        assert_eq!(nice_scale(3.0), (3.0, 1.0));
        assert_eq!(nice_scale(37.0), (40.0, 10.0));
        assert_eq!(nice_scale(1234.0), (1500.0, 500.0));
    }
}
