//! The quantile-profile chart of the report: the gap, its composition part and its structure part at every
//! percentile (x) in log points or outcome units (y), with shaded confidence bands. Plain SVG like
//! `charts.rs`.

use std::fmt::Write as _;

use super::charts::escape;

/// A point of a line: (percentile, value, confidence interval).
pub type ProfilePoint = (f64, f64, Option<(f64, f64)>);

/// One line of the chart: its name, colour and points.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileLine {
    pub name: String,
    pub colour: String,
    pub points: Vec<ProfilePoint>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 320.0;

/// Lines over percentiles 0–100 with CI bands; the y scale covers every value and band and zero.
pub fn profile_chart(title: &str, y_label: &str, lines: &[ProfileLine]) -> String {
    let (left, right, top, bottom) = (64.0, WIDTH - 120.0, 14.0, HEIGHT - 40.0);
    let values = lines.iter().flat_map(|l| l.points.iter()).flat_map(|(_, v, ci)| {
        let (lo, hi) = ci.unwrap_or((*v, *v));
        [*v, lo, hi]
    });
    let (low, high) = values.filter(|v| v.is_finite()).fold((0.0f64, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
    let span = (high - low).max(1e-9);
    let (low, high) = (low - 0.05 * span, high + 0.05 * span);
    let x = |p: f64| left + p / 100.0 * (right - left);
    let y = |v: f64| bottom - (v - low) / (high - low) * (bottom - top);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" \
         font-family=\"sans-serif\" font-size=\"12\"><title>{}</title>",
        escape(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\" stroke=\"#999\"/>\
         <line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\" stroke=\"#999\"/>\
         <line x1=\"{left}\" y1=\"{zero:.1}\" x2=\"{right}\" y2=\"{zero:.1}\" stroke=\"#333\" stroke-width=\"0.8\"/>\
         <text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\">percentile</text>\
         <text x=\"14\" y=\"{mid:.0}\" transform=\"rotate(-90 14 {mid:.0})\" text-anchor=\"middle\">{}</text>",
        (left + right) / 2.0,
        HEIGHT - 6.0,
        escape(y_label),
        zero = y(0.0),
        mid = (top + bottom) / 2.0,
    );
    for p in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.0}\" text-anchor=\"middle\" fill=\"#555\">{p:.0}</text>",
            x(p),
            bottom + 14.0
        );
    }
    for v in [low, 0.0, high] {
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{v:.3}</text>",
            left - 4.0,
            y(v) + 4.0
        );
    }
    for (i, line) in lines.iter().enumerate() {
        let colour = escape(&line.colour);
        let band: Vec<(f64, (f64, f64))> = line.points.iter().filter_map(|(p, _, ci)| ci.map(|c| (*p, c))).collect();
        if band.len() == line.points.len() && band.len() > 1 {
            let upper = band.iter().map(|(p, (_, hi))| format!("{:.1},{:.1}", x(*p), y(*hi)));
            let lower = band.iter().rev().map(|(p, (lo, _))| format!("{:.1},{:.1}", x(*p), y(*lo)));
            let points: Vec<String> = upper.chain(lower).collect();
            let _ = write!(
                svg,
                "<polygon points=\"{}\" fill=\"{colour}\" fill-opacity=\"0.15\" stroke=\"none\"/>",
                points.join(" ")
            );
        }
        let path: Vec<String> = line
            .points
            .iter()
            .filter(|(_, v, _)| v.is_finite())
            .map(|(p, v, _)| format!("{:.1},{:.1}", x(*p), y(*v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            path.join(" ")
        );
        for (p, v, _) in line.points.iter().filter(|(_, v, _)| v.is_finite()) {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{colour}\"><title>{}</title></circle>",
                x(*p),
                y(*v),
                escape(&format!("{}: p{p:.0} = {v:.4}", line.name))
            );
        }
        let ly = top + 16.0 + 18.0 * i as f64;
        let _ = write!(
            svg,
            "<line x1=\"{:.0}\" y1=\"{ly:.0}\" x2=\"{:.0}\" y2=\"{ly:.0}\" stroke=\"{colour}\" stroke-width=\"2\"/>\
             <text x=\"{:.0}\" y=\"{:.0}\">{}</text>",
            right + 10.0,
            right + 30.0,
            right + 34.0,
            ly + 4.0,
            escape(&line.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_one_svg_with_escaped_names_and_bands() {
        let line = ProfileLine {
            name: "gap <A>".into(),
            colour: "#000".into(),
            points: vec![(10.0, 0.1, Some((0.05, 0.15))), (50.0, 0.2, Some((0.1, 0.3))), (90.0, 0.6, Some((0.5, 0.7)))],
        };
        let svg = profile_chart("t", "log points", &[line]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("gap &lt;A&gt;") && svg.contains("<polygon"));
    }
}
