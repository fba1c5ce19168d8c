//! `curlmux bench --plot`: panels of CPU per transfer, side by side, in one
//! SVG file (plotters). Knows nothing of the benchmark but its series.

use std::path::Path;

use plotters::prelude::*;

/// One line of a panel.
pub struct Series {
    pub name: String,
    /// (x, CPU µs per transfer); points without a measurement are left out.
    pub points: Vec<(f64, f64)>,
    pub kind: Kind,
}

/// How a series is drawn: a loop's colour (the epoll loop through curlmux
/// grey), thin for stock libcurl and thick for curlmux; the reference and
/// its limit in black and red.
#[derive(Clone, Copy)]
pub enum Kind {
    Stock(RGBColor),
    Curlmux(RGBColor),
    Reference,
    Limit,
}

impl Kind {
    pub fn of(lp: &str, imp: &str) -> Kind {
        let colour = match lp {
            "classic" => RGBColor(31, 119, 180),
            "classic-tf" => RGBColor(148, 103, 189),
            "wait" => RGBColor(44, 160, 44),
            "poll" => RGBColor(255, 127, 14),
            _ if imp == "curlmux" => return Kind::Curlmux(RGBColor(128, 128, 128)),
            _ => return Kind::Reference,
        };
        if imp == "curlmux" { Kind::Curlmux(colour) } else { Kind::Stock(colour) }
    }

    fn style(self) -> ShapeStyle {
        match self {
            Kind::Stock(c) => c.stroke_width(1),
            Kind::Curlmux(c) => c.stroke_width(3),
            Kind::Reference => BLACK.stroke_width(2),
            Kind::Limit => RED.stroke_width(1),
        }
    }
}

pub struct Panel {
    pub title: String,
    pub x_label: &'static str,
    pub series: Vec<Series>,
}

/// Draws the measured ones of `panels` side by side into `file`; the y axes are logarithmic
/// (stock's loops among thousands of idle transfers cost tens of times more).
pub fn draw(file: &Path, panels: &[Panel]) -> Result<(), String> {
    let measured = |p: &&Panel| p.series.iter().any(|s| !s.points.is_empty());
    let panels: Vec<&Panel> = panels.iter().filter(measured).collect();
    if panels.is_empty() {
        return Err(format!("plot {}: no cell with idle transfers or concurrency was run", file.display()));
    }
    let root = SVGBackend::new(file, (640 * panels.len() as u32, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(panels) {
        draw_panel(area, panel).map_err(|e| format!("plot {}: {e}", file.display()))?;
    }
    root.present().map_err(|e| format!("plot {}: {e}", file.display()))
}

fn draw_panel(area: &DrawingArea<SVGBackend, plotters::coord::Shift>, panel: &Panel) -> Result<(), String> {
    let points = || panel.series.iter().flat_map(|s| s.points.iter().copied());
    let (x_max, y_min, y_max) =
        points().fold((1.0f64, f64::INFINITY, 0.0f64), |(x, lo, hi), (px, py)| (x.max(px), lo.min(py), hi.max(py)));
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        // Headroom above the lines for the legend.
        .build_cartesian_2d(0.0..x_max * 1.05, (y_min * 0.8..y_max * 5.0).log_scale())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .y_labels(12)
        .x_desc(panel.x_label)
        .y_desc("client CPU µs per transfer")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(|e| e.to_string())?;
    for series in panel.series.iter().filter(|s| !s.points.is_empty()) {
        let style = series.kind.style();
        chart
            .draw_series(LineSeries::new(series.points.iter().copied(), style).point_size(3))
            .map_err(|e| e.to_string())?
            .label(&series.name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .draw()
        .map_err(|e| e.to_string())
}
