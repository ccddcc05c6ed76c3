//! The two chart shapes the bench report draws, written as SVG by hand.
//!
//! Horizontal bars (one row per implementation, in titled sections, on a
//! linear or log axis, with an optional reference line) and lines over a
//! log-2 x axis (a value per consumer count). That is all the report needs,
//! so xtask keeps no plotting dependency: a chart is rectangles, lines and
//! text. Text widths are estimated (0.6 em a character), which is enough for
//! the short labels used here.

use std::fmt::Write as _;

const WIDTH: f64 = 760.0;
const FONT: &str = "font-family=\"Helvetica, Arial, sans-serif\"";
const GREY: &str = "#666";
const GRID: &str = "#e0e0e0";

/// One bar: a labelled value, drawn in `color`, with `note` printed after it.
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) value: f64,
    pub(crate) color: &'static str,
    pub(crate) note: String,
}

/// Horizontal bars in sections.
pub(crate) struct BarChart {
    pub(crate) title: String,
    /// The second line: what a bar is and whether lower or higher is better.
    pub(crate) subtitle: String,
    /// The x axis' label, with its unit.
    pub(crate) axis: String,
    /// Log-2 axis, bars drawn from 1 (for ratios); else linear from 0.
    pub(crate) log: bool,
    /// A vertical line at this value, labelled.
    pub(crate) reference: Option<(f64, String)>,
    pub(crate) sections: Vec<(String, Vec<Bar>)>,
    /// Small print at the bottom: where and when it was measured.
    pub(crate) footer: String,
}

/// Lines over a log-2 x axis.
pub(crate) struct LineChart {
    pub(crate) title: String,
    pub(crate) subtitle: String,
    pub(crate) x_axis: String,
    pub(crate) y_axis: String,
    pub(crate) series: Vec<Series>,
    pub(crate) footer: String,
}

pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) color: &'static str,
    pub(crate) points: Vec<(f64, f64)>,
}

/// An SVG document being written.
struct Doc(String);

impl Doc {
    fn new(height: f64) -> Doc {
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
             viewBox=\"0 0 {WIDTH} {height}\" {FONT}>\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        );
        Doc(s)
    }

    fn text(&mut self, x: f64, y: f64, size: f64, anchor: &str, extra: &str, s: &str) {
        let _ = writeln!(
            self.0,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" text-anchor=\"{anchor}\" {extra}>{}</text>",
            escape(s)
        );
    }

    fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, extra: &str) {
        let _ = writeln!(
            self.0,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\" {extra}/>"
        );
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        let _ = writeln!(
            self.0,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"/>"
        );
    }

    fn header(&mut self, title: &str, subtitle: &str) {
        self.text(16.0, 26.0, 17.0, "start", "font-weight=\"bold\"", title);
        self.text(
            16.0,
            46.0,
            12.0,
            "start",
            &format!("fill=\"{GREY}\""),
            subtitle,
        );
    }

    fn footer(&mut self, height: f64, footer: &str) {
        self.text(
            16.0,
            height - 10.0,
            10.0,
            "start",
            &format!("fill=\"{GREY}\""),
            footer,
        );
    }

    fn finish(mut self) -> String {
        self.0.push_str("</svg>\n");
        self.0
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Estimated width of `s` at `size` px.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.6
}

/// A round step giving at most about `n` ticks over `0..max`.
fn step(max: f64, n: f64) -> f64 {
    let raw = max / n;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// A tick label: no trailing zeros.
fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Horizontal bars; `None` if there is nothing to draw.
pub(crate) fn bar_chart(c: &BarChart) -> Option<String> {
    let bars: Vec<&Bar> = c
        .sections
        .iter()
        .flat_map(|(_, b)| b)
        .filter(|b| b.value.is_finite() && (!c.log || b.value > 0.0))
        .collect();
    if bars.is_empty() {
        return None;
    }
    const ROW: f64 = 22.0;
    const SECTION: f64 = 26.0;
    const TOP: f64 = 66.0;
    let label_w = bars
        .iter()
        .map(|b| text_width(&b.label, 12.0))
        .fold(80.0, f64::max);
    let note_w = bars
        .iter()
        .map(|b| text_width(&b.note, 11.0))
        .fold(40.0, f64::max);
    let left = 16.0 + label_w + 10.0;
    let right = WIDTH - 16.0 - note_w - 8.0;
    let sections = c.sections.iter().filter(|(_, b)| !b.is_empty()).count();
    let plot_h = bars.len() as f64 * ROW + sections as f64 * SECTION;
    let height = TOP + plot_h + 64.0;

    // Scale: x(v) in pixels.
    let values = bars.iter().map(|b| b.value);
    let reference = c.reference.as_ref().map(|(v, _)| *v);
    let (lo, hi) = if c.log {
        let lo = values
            .clone()
            .chain(reference)
            .chain([1.0])
            .fold(f64::MAX, f64::min);
        let hi = values.chain(reference).chain([1.0]).fold(0.0, f64::max);
        ((lo / 1.3).log2().floor(), (hi * 1.3).log2().ceil())
    } else {
        let hi = values.chain(reference).fold(0.0, f64::max) * 1.05;
        (0.0, if hi > 0.0 { hi } else { 1.0 })
    };
    let x = |v: f64| {
        let t = if c.log {
            (v.log2() - lo) / (hi - lo)
        } else {
            (v - lo) / (hi - lo)
        };
        left + t * (right - left)
    };

    let mut d = Doc::new(height);
    d.header(&c.title, &c.subtitle);
    let bottom = TOP + plot_h;
    // Grid and ticks.
    let ticks: Vec<f64> = if c.log {
        (lo as i32..=hi as i32).map(|e| 2f64.powi(e)).collect()
    } else {
        let s = step(hi, 6.0);
        (0..)
            .map(|k| k as f64 * s)
            .take_while(|v| *v <= hi)
            .collect()
    };
    for t in ticks {
        let tx = x(t);
        d.line((tx, TOP), (tx, bottom), GRID, "");
        let label = if c.log {
            format!("{}×", tick(t))
        } else {
            tick(t)
        };
        d.text(tx, bottom + 16.0, 11.0, "middle", "", &label);
    }
    d.line((left, bottom), (right, bottom), "#333", "");
    d.text(
        (left + right) / 2.0,
        bottom + 36.0,
        12.0,
        "middle",
        "",
        &c.axis,
    );

    // Bars.
    let base: f64 = if c.log { 1.0 } else { 0.0 };
    let mut y = TOP;
    for (name, section) in &c.sections {
        if section.is_empty() {
            continue;
        }
        d.text(16.0, y + 18.0, 12.0, "start", "font-weight=\"bold\"", name);
        y += SECTION;
        for b in section {
            d.text(left - 8.0, y + 15.0, 12.0, "end", "", &b.label);
            if b.value.is_finite() && (!c.log || b.value > 0.0) {
                let (a, z) = (x(base.min(b.value)), x(base.max(b.value)));
                d.rect(a, y + 4.0, (z - a).max(1.0), ROW - 8.0, b.color);
                d.text(
                    z.max(x(base)) + 6.0,
                    y + 15.0,
                    11.0,
                    "start",
                    &format!("fill=\"{GREY}\""),
                    &b.note,
                );
            }
            y += ROW;
        }
    }
    if let Some((v, label)) = &c.reference {
        let rx = x(*v);
        d.line(
            (rx, TOP - 4.0),
            (rx, bottom),
            "#000",
            "stroke-width=\"1.5\" stroke-dasharray=\"5,3\"",
        );
        d.text(rx + 4.0, TOP + 2.0, 11.0, "start", "", label);
    }
    d.footer(height, &c.footer);
    Some(d.finish())
}

/// Lines over a log-2 x axis; `None` if there is nothing to draw.
pub(crate) fn line_chart(c: &LineChart) -> Option<String> {
    let points = || c.series.iter().flat_map(|s| &s.points);
    points().next()?;
    const HEIGHT: f64 = 440.0;
    let (left, right, top, bottom) = (80.0, WIDTH - 190.0, 66.0, HEIGHT - 70.0);
    let xs_lo = points().map(|p| p.0).fold(f64::MAX, f64::min).log2();
    let xs_hi = points().map(|p| p.0).fold(0.0, f64::max).log2();
    let span = (xs_hi - xs_lo).max(1.0);
    let y_hi = points().map(|p| p.1).fold(0.0, f64::max) * 1.08;
    let y_hi = if y_hi > 0.0 { y_hi } else { 1.0 };
    let x = |v: f64| left + (v.log2() - xs_lo) / span * (right - left);
    let y = |v: f64| bottom - v / y_hi * (bottom - top);

    let mut d = Doc::new(HEIGHT);
    d.header(&c.title, &c.subtitle);
    let s = step(y_hi, 6.0);
    for t in (0..).map(|k| k as f64 * s).take_while(|v| *v <= y_hi) {
        d.line((left, y(t)), (right, y(t)), GRID, "");
        d.text(left - 6.0, y(t) + 4.0, 11.0, "end", "", &tick(t));
    }
    let mut xs: Vec<f64> = points().map(|p| p.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    for v in xs {
        d.line((x(v), bottom), (x(v), bottom + 4.0), "#333", "");
        d.text(x(v), bottom + 18.0, 11.0, "middle", "", &tick(v));
    }
    d.line((left, bottom), (right, bottom), "#333", "");
    d.line((left, top), (left, bottom), "#333", "");
    d.text(
        (left + right) / 2.0,
        bottom + 38.0,
        12.0,
        "middle",
        "",
        &c.x_axis,
    );
    let (yx, yy) = (22.0, (top + bottom) / 2.0);
    d.text(
        yx,
        yy,
        12.0,
        "middle",
        &format!("transform=\"rotate(-90 {yx} {yy})\""),
        &c.y_axis,
    );
    for (k, s) in c.series.iter().enumerate() {
        if s.points.is_empty() {
            continue;
        }
        let pts: Vec<String> = s
            .points
            .iter()
            .map(|(a, b)| format!("{:.1},{:.1}", x(*a), y(*b)))
            .collect();
        let _ = writeln!(
            d.0,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
            pts.join(" "),
            s.color
        );
        for (a, b) in &s.points {
            let _ = writeln!(
                d.0,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"/>",
                x(*a),
                y(*b),
                s.color
            );
        }
        let ly = top + 8.0 + k as f64 * 20.0;
        d.rect(right + 16.0, ly - 5.0, 18.0, 4.0, s.color);
        d.text(right + 40.0, ly, 12.0, "start", "", &s.name);
    }
    d.footer(HEIGHT, &c.footer);
    Some(d.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(step(100.0, 5.0), 20.0);
        assert_eq!(step(7.0, 6.0), 2.0);
        assert_eq!(tick(2.50), "2.5");
        assert_eq!(tick(0.125), "0.125");
    }

    #[test]
    fn empty_charts_are_not_drawn() {
        let c = BarChart {
            title: "t".into(),
            subtitle: String::new(),
            axis: String::new(),
            log: true,
            reference: None,
            sections: vec![("s".into(), vec![])],
            footer: String::new(),
        };
        assert!(bar_chart(&c).is_none());
    }
}
