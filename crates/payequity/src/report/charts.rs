//! Inline SVG charts of the HTML report: gaps with confidence intervals, quartile bands of women and men,
//! the equal-value pay line, and amounts by rule or group. Plain SVG 1.1 text (no script, no external
//! fonts), sized by `viewBox` so it scales on screen and prints sharply to PDF.

use std::fmt::Write as _;

/// Colour of women in every chart.
pub const WOMEN: &str = "#7b3294";
/// Colour of men in every chart.
pub const MEN: &str = "#1b7837";
const NEUTRAL: &str = "#5a6570";
const WIDTH: f64 = 640.0;
const LABEL_WIDTH: f64 = 150.0;
const ROW: f64 = 22.0;

/// Escapes text for SVG/HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn open(height: f64, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height:.0}\" width=\"100%\" role=\"img\" \
         font-family=\"sans-serif\" font-size=\"12\"><title>{}</title>",
        escape(title)
    )
}

/// A bar of a gap chart: the estimate and its confidence interval (percent).
#[derive(Debug, Clone, PartialEq)]
pub struct GapBar {
    pub label: String,
    pub value: f64,
    pub ci: Option<(f64, f64)>,
}

/// Horizontal bars from zero (positive = men paid more) with CI whiskers; the scale covers every interval.
pub fn gap_bars(title: &str, bars: &[GapBar]) -> String {
    let height = 30.0 + ROW * bars.len() as f64;
    let mut low: f64 = 0.0;
    let mut high: f64 = 0.0;
    for bar in bars {
        let (l, h) = bar.ci.unwrap_or((bar.value, bar.value));
        low = low.min(l).min(bar.value);
        high = high.max(h).max(bar.value);
    }
    let span = (high - low).max(1.0);
    let plot = WIDTH - LABEL_WIDTH - 60.0;
    let x = |v: f64| LABEL_WIDTH + 10.0 + (v - low) / span * plot;
    let mut svg = open(height, title);
    let _ = write!(
        svg,
        "<line x1=\"{0:.1}\" y1=\"4\" x2=\"{0:.1}\" y2=\"{1:.0}\" stroke=\"#999\"/>",
        x(0.0),
        height - 18.0
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = 6.0 + ROW * i as f64;
        let (from, to) = if bar.value >= 0.0 { (x(0.0), x(bar.value)) } else { (x(bar.value), x(0.0)) };
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{from:.1}\" y=\"{y:.1}\" \
             width=\"{:.1}\" height=\"14\" fill=\"{NEUTRAL}\" opacity=\"0.75\"/>",
            LABEL_WIDTH,
            y + 11.0,
            escape(&bar.label),
            (to - from).max(0.5)
        );
        if let Some((l, h)) = bar.ci {
            let _ = write!(
                svg,
                "<line x1=\"{:.1}\" y1=\"{2:.1}\" x2=\"{:.1}\" y2=\"{2:.1}\" stroke=\"#000\"/>",
                x(l),
                x(h),
                y + 7.0
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\">{:.1}%</text>",
            x(bar.ci.map_or(bar.value, |c| c.1).max(bar.value).max(0.0)) + 4.0,
            y + 11.0,
            bar.value
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.0}\" text-anchor=\"middle\" fill=\"#555\">0 (positive: men paid more)</text></svg>",
        x(0.0),
        height - 4.0
    );
    svg
}

/// 100% stacked bars of women and men in each pay quartile band (band 1 = lowest paid).
pub fn quartile_bars(title: &str, bands: &[(String, f64, f64)]) -> String {
    let height = 36.0 + ROW * bands.len() as f64;
    let plot = WIDTH - LABEL_WIDTH - 20.0;
    let mut svg = open(height, title);
    for (i, (label, women, men)) in bands.iter().enumerate() {
        let y = 6.0 + ROW * i as f64;
        let women_width = plot * women / 100.0;
        let _ = write!(
            svg,
            "<text x=\"{LABEL_WIDTH}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{women_width:.1}\" height=\"14\" fill=\"{WOMEN}\"/>\
             <rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"14\" fill=\"{MEN}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#fff\">{women:.1}%</text>",
            y + 11.0,
            escape(label),
            LABEL_WIDTH + 10.0,
            LABEL_WIDTH + 10.0 + women_width,
            plot * men / 100.0,
            LABEL_WIDTH + 14.0,
            y + 11.0
        );
    }
    let legend_y = height - 8.0;
    let _ = write!(
        svg,
        "<rect x=\"{0:.0}\" y=\"{1:.0}\" width=\"10\" height=\"10\" fill=\"{WOMEN}\"/><text x=\"{2:.0}\" \
         y=\"{3:.0}\">women</text><rect x=\"{4:.0}\" y=\"{1:.0}\" width=\"10\" height=\"10\" fill=\"{MEN}\"/>\
         <text x=\"{5:.0}\" y=\"{3:.0}\">men</text></svg>",
        LABEL_WIDTH + 10.0,
        legend_y - 9.0,
        LABEL_WIDTH + 24.0,
        legend_y,
        LABEL_WIDTH + 80.0,
        LABEL_WIDTH + 94.0
    );
    svg
}

/// A job class on the pay-line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct JobPoint {
    pub label: String,
    pub points: f64,
    pub rate: f64,
    /// `female`, `male` or `neutral`.
    pub predominance: String,
    /// The rate the class should have (shortfall classes only).
    pub target: Option<f64>,
}

/// Job classes by evaluation points (x) and job rate (y), coloured by predominance, the male pay line, and
/// an arrow from each short-paid class to its target rate.
pub fn pay_line_chart(title: &str, jobs: &[JobPoint], line: Option<(f64, f64)>) -> String {
    let height = 320.0;
    let (left, right, top, bottom) = (60.0, WIDTH - 20.0, 14.0, height - 40.0);
    let xs = jobs.iter().map(|j| j.points);
    let ys = jobs.iter().flat_map(|j| [Some(j.rate), j.target]).flatten();
    let (x_low, x_high) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    let (y_low, y_high) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    let mut svg = open(height, title);
    if !x_low.is_finite() || !y_low.is_finite() {
        svg.push_str("<text x=\"20\" y=\"20\">no job classes to show</text></svg>");
        return svg;
    }
    let (x_low, x_high) = (x_low - 0.05 * (x_high - x_low).max(1.0), x_high + 0.05 * (x_high - x_low).max(1.0));
    let (y_low, y_high) = ((y_low * 0.9).min(y_low - 1.0), y_high * 1.05 + 1.0);
    let x = |v: f64| left + (v - x_low) / (x_high - x_low) * (right - left);
    let y = |v: f64| bottom - (v - y_low) / (y_high - y_low) * (bottom - top);
    let plot = Plot { left, right, top, bottom, height };
    axes(
        &mut svg,
        &plot,
        ("job evaluation points", "rate per hour"),
        [x_low, x_high].map(|v| (v, x(v))),
        [y_low, y_high].map(|v| (v, y(v))),
    );
    if let Some((intercept, slope)) = line {
        // A nested viewport clips the line to the plot area (a steep line leaves it).
        let (w, h) = (right - left, bottom - top);
        let _ = write!(
            svg,
            "<svg x=\"{left}\" y=\"{top}\" width=\"{w}\" height=\"{h}\" viewBox=\"{left} {top} {w} {h}\" \
             overflow=\"hidden\"><line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{MEN}\" \
             stroke-dasharray=\"6 4\"/></svg>",
            x(x_low),
            y(intercept + slope * x_low),
            x(x_high),
            y(intercept + slope * x_high)
        );
    }
    for job in jobs {
        let colour = match job.predominance.as_str() {
            "female" => WOMEN,
            "male" => MEN,
            _ => NEUTRAL,
        };
        if let Some(target) = job.target.filter(|t| *t > job.rate) {
            let _ = write!(
                svg,
                "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"{WOMEN}\" \
                 stroke-dasharray=\"2 2\"/><circle cx=\"{0:.1}\" cy=\"{2:.1}\" r=\"3\" fill=\"none\" stroke=\"{WOMEN}\"/>",
                x(job.points),
                y(job.rate),
                y(target)
            );
        }
        let title = format!("{}: {:.0} points, {:.2} per hour", job.label, job.points, job.rate);
        labelled_point(&mut svg, (x(job.points), y(job.rate)), (colour, colour), &title, &job.label);
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars of amounts (arrears by rule or by group), labelled with `format`.
pub fn amount_bars(title: &str, items: &[(String, f64)], format: impl Fn(f64) -> String) -> String {
    let height = 10.0 + ROW * items.len() as f64;
    let high = items.iter().map(|i| i.1).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let plot = WIDTH - LABEL_WIDTH - 120.0;
    let mut svg = open(height, title);
    for (i, (label, value)) in items.iter().enumerate() {
        let y = 6.0 + ROW * i as f64;
        let width = plot * value.max(0.0) / high;
        let _ = write!(
            svg,
            "<text x=\"{LABEL_WIDTH}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{:.0}\" y=\"{y:.1}\" \
             width=\"{width:.1}\" height=\"14\" fill=\"{NEUTRAL}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            y + 11.0,
            escape(label),
            LABEL_WIDTH + 10.0,
            LABEL_WIDTH + 14.0 + width,
            y + 11.0,
            escape(&format(*value))
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_single_svg_elements_with_escaped_labels() {
        let svg = gap_bars("t", &[GapBar { label: "A&B <x>".into(), value: -3.0, ci: Some((-5.0, -1.0)) }]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("A&amp;B &lt;x&gt;"));
        let svg = quartile_bars("q", &[("1".into(), 60.0, 40.0)]);
        assert_eq!(svg.matches("<svg").count(), 1);
        let svg = pay_line_chart("p", &[], None);
        assert!(svg.contains("no job classes"));
    }

    #[test]
    fn stacked_quartile_bars_fill_the_plot_width() {
        let svg = quartile_bars("q", &[("1".into(), 25.0, 75.0)]);
        let plot = WIDTH - LABEL_WIDTH - 20.0;
        assert!(svg.contains(&format!("width=\"{:.1}\"", plot * 0.25)));
        assert!(svg.contains(&format!("width=\"{:.1}\"", plot * 0.75)));
    }
}

/// The plot area of an x–y chart (pixels) and the height of the whole chart.
struct Plot {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    height: f64,
}

/// The axes of an x–y chart: both lines, the (escaped) axis labels, and the end ticks as (value, pixel).
fn axes(svg: &mut String, plot: &Plot, labels: (&str, &str), x_ticks: [(f64, f64); 2], y_ticks: [(f64, f64); 2]) {
    let Plot { left, right, top, bottom, height } = *plot;
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\" stroke=\"#999\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\" stroke=\"#999\"/>\
         <text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\">{}</text>\
         <text x=\"14\" y=\"{:.0}\" transform=\"rotate(-90 14 {:.0})\" text-anchor=\"middle\">{}</text>",
        (left + right) / 2.0,
        height - 6.0,
        escape(labels.0),
        (top + bottom) / 2.0,
        (top + bottom) / 2.0,
        escape(labels.1)
    );
    for ((value, at), anchor) in x_ticks.into_iter().zip(["start", "end"]) {
        let _ = write!(
            svg,
            "<text x=\"{at:.1}\" y=\"{:.0}\" text-anchor=\"{anchor}\" fill=\"#555\">{value:.0}</text>",
            bottom + 14.0
        );
    }
    for (value, at) in y_ticks {
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{value:.1}</text>",
            left - 4.0,
            at + 4.0
        );
    }
}

/// A labelled point of a [`scatter`] chart.
#[derive(Debug, Clone)]
pub struct ScatterPoint {
    pub label: String,
    pub x: f64,
    pub y: f64,
    /// The baseline (drawn hollow) or a scenario.
    pub reference: bool,
}

/// Labelled points on x and y axes (the scenarios' mean gap against their annual cost).
pub fn scatter(title: &str, points: &[ScatterPoint], x_label: &str, y_label: &str) -> String {
    let height = 320.0;
    let (left, right, top, bottom) = (70.0, WIDTH - 140.0, 14.0, height - 40.0);
    let finite: Vec<&ScatterPoint> = points.iter().filter(|p| p.x.is_finite() && p.y.is_finite()).collect();
    let mut svg = open(height, title);
    if finite.is_empty() {
        svg.push_str("<text x=\"20\" y=\"20\">no scenario to show</text></svg>");
        return svg;
    }
    let range = |values: Vec<f64>| {
        let (low, high) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
        let pad = 0.08 * (high - low).max(1e-9);
        (low.min(0.0) - pad, high + pad)
    };
    let (x_low, x_high) = range(finite.iter().map(|p| p.x).collect());
    let (y_low, y_high) = range(finite.iter().map(|p| p.y).collect());
    let x = |v: f64| left + (v - x_low) / (x_high - x_low) * (right - left);
    let y = |v: f64| bottom - (v - y_low) / (y_high - y_low) * (bottom - top);
    let plot = Plot { left, right, top, bottom, height };
    let x_ticks = [x_low.max(0.0), x_high].map(|v| (v, x(v)));
    axes(&mut svg, &plot, (x_label, y_label), x_ticks, [y_low, y_high].map(|v| (v, y(v))));
    for point in finite {
        let fill = if point.reference { "none" } else { WOMEN };
        let title = format!("{}: {:.2} at {:.0}", point.label, point.y, point.x);
        let label: String = point.label.chars().take(40).collect();
        labelled_point(&mut svg, (x(point.x), y(point.y)), (fill, WOMEN), &title, &label);
    }
    svg.push_str("</svg>");
    svg
}

/// A point of an x-y chart at `(cx, cy)` with its `(fill, stroke)`, a tooltip `title` and a `label` beside it
/// (both escaped: they come from the data).
fn labelled_point(svg: &mut String, (cx, cy): (f64, f64), (fill, stroke): (&str, &str), title: &str, label: &str) {
    let _ = write!(
        svg,
        "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"5\" fill=\"{fill}\" stroke=\"{stroke}\"><title>{}</title></circle>\
         <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{}</text>",
        escape(title),
        cx + 7.0,
        cy + 3.0,
        escape(label)
    );
}
