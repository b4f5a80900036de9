//! The reintegration scores over time as a small SVG line chart, drawn on the server
//! (no JavaScript, no chart crate: four lines on a 0–1 scale need a polyline each, and a
//! crate such as `plotters` would add a font and raster stack for nothing). The numbers
//! are also in a table beside it for screen readers; the chart itself is `aria-hidden`
//! behind a text summary (`role="img"` with `aria-label`).

use std::fmt::Write;

/// One series: its css class (colour), its label (already translated) and its points
/// (`None` where that assessment had no score for it).
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

fn esc(s: &str) -> String {
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

/// The chart: x = the assessments in order (labelled by `dates`), y = 0–1. `title` is
/// the accessible name.
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
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title)
    );
    let _ = write!(s, "<title>{}</title>", esc(title));
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
        let _ = write!(
            s,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x(i),
            H - BOTTOM + 16.0,
            esc(d)
        );
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
        assert!(svg.contains("Scores &lt;over&gt; time"));
        assert!(svg.contains("Economic &amp; work"));
        // Two points of the economic line joined, one lone social point without a line.
        assert_eq!(svg.matches(r#"<polyline class="line economic""#).count(), 1);
        assert_eq!(svg.matches(r#"<polyline class="line social""#).count(), 0);
        assert_eq!(svg.matches(r#"<circle class="dot social""#).count(), 1);
        // 0.75 sits a quarter of the plot below the top: y = 12 + 174 * 0.25 = 55.5.
        assert!(svg.contains(r#"cy="55.5""#), "{svg}");
    }
}
