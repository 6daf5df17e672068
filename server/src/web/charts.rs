//! Server-side SVG charts for the analysis pages: the verdict split, activity per day,
//! the opinion map and the participation funnel, each rendered to a `String` that the
//! page inlines next to a data table (the table is the text alternative, so every chart
//! is `aria-hidden`).
//!
//! Drawing goes through the SVG backend of `plotters` (without its font features: SVG
//! text is laid out by the browser, so no font files are read). That backend writes
//! presentation attributes only (`fill`, `stroke`, `font-size`, …), never a `style`
//! attribute or element, so the output passes the pages' `style-src 'self'`; it also
//! escapes every text it writes. Two things are done outside it:
//!
//! - Layout is computed here in pixels rather than with its `ChartBuilder`, which would
//!   place ticks and label areas by its own rules and write numbers in its own format.
//! - The root tag it writes has a fixed pixel size; it is replaced by one with only a
//!   `viewBox` and `width="100%"`, so a chart shrinks to a 320 px phone.
//!
//! Every text a person reads comes in as a parameter ([`ChartLabels`], step names,
//! data keys); the code itself adds only numbers, `%` and dates as `DD-MM`. Colours are
//! the Okabe–Ito palette, darkened where needed to reach 4.5:1 against the white
//! background, and the opinion groups also differ in marker shape.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::analysis::opinion::OpinionMap;
use crate::analysis::stats::Share;

/// Width of every chart in `viewBox` units; the SVG itself scales to its container.
const WIDTH: i32 = 400;
/// Height of the chart drawn when there is nothing to show.
const EMPTY_HEIGHT: i32 = 40;
/// The plotters SVG backend writes `font-size` as the requested size divided by 1.24;
/// sizes are multiplied by this so that the written size is the one asked for.
const FONT_SCALE: f64 = 1.24;
/// Font size of category names and value labels.
const LABEL_PX: f64 = 14.0;
/// Font size of axis ticks.
const TICK_PX: f64 = 12.0;
/// Estimated width of one character, as a fraction of the font size (generous for an
/// average sans-serif, so that estimated labels fit).
const CHAR_WIDTH: f64 = 0.6;
/// Height of one row in the bar charts.
const ROW: i32 = 36;
/// Days at most between the first and last day for which missing days are filled in.
const MAX_FILLED_DAYS: i64 = 731;

/// Body text: 16.5:1 on white.
const TEXT: RGBColor = RGBColor(0x1F, 0x1F, 0x1F);
/// Tick labels: 8.5:1 on white.
const MUTED: RGBColor = RGBColor(0x4D, 0x4D, 0x4D);
/// Axis lines: 4.5:1 on white.
const AXIS: RGBColor = RGBColor(0x76, 0x76, 0x76);
/// Grid lines and frames (decoration only).
const GRID: RGBColor = RGBColor(0xD9, 0xD9, 0xD9);
/// The band joining the funnel's bars (decoration only).
const FUNNEL_BAND: RGBColor = RGBColor(0xDC, 0xE9, 0xF5);
/// Participants outside any opinion group: 6.5:1 on white.
const UNGROUPED: RGBColor = RGBColor(0x5E, 0x5E, 0x5E);

/// Okabe–Ito hues, darkened where needed to reach at least 4.5:1 on white: blue,
/// vermillion, bluish green, reddish purple, ochre, near black.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xB8, 0x4A, 0x00),
    RGBColor(0x00, 0x7A, 0x5A),
    RGBColor(0xA2, 0x4A, 0x7E),
    RGBColor(0x8F, 0x5B, 0x00),
    RGBColor(0x33, 0x33, 0x33),
];

/// Verdict bars in the order of the split (agree, disagree, doubt): blue, vermillion,
/// grey; further options take the palette.
const VERDICT_COLOURS: [RGBColor; 3] = [PALETTE[0], PALETTE[1], UNGROUPED];

/// Marker shapes of the opinion groups, by group index (repeating with the palette).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Circle,
    TriangleUp,
    Square,
    Diamond,
    TriangleDown,
    Plus,
}

const SHAPES: [Shape; 6] = [
    Shape::Circle,
    Shape::TriangleUp,
    Shape::Square,
    Shape::Diamond,
    Shape::TriangleDown,
    Shape::Plus,
];

/// The texts a chart shows that do not come with its data, in the page's language.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChartLabels {
    /// Shown in place of a chart with nothing to draw, e.g. "Nog geen gegevens"; empty
    /// for a blank chart.
    pub no_data: String,
    /// Display names of data keys as `(key, name)`, e.g. `("eens", "Agree")` for the
    /// verdict words in [`Share::label`]. A key without a name is shown as it is.
    pub names: Vec<(String, String)>,
    /// Names of the opinion groups by index, e.g. `["Groep A", "Groep B"]`. Groups past
    /// its end are named by [`ChartLabels::group_word`] and [`group_letter`].
    pub group_names: Vec<String>,
    /// The word before a group's letter: `"Groep"` names group 0 `"Groep A"`. Empty: the
    /// letter alone.
    pub group_word: String,
}

impl ChartLabels {
    /// The display name of a data key (see [`ChartLabels::names`]); the key itself when
    /// it has none.
    pub fn name<'a>(&'a self, key: &'a str) -> &'a str {
        self.names
            .iter()
            .find(|(k, _)| k == key)
            .map_or(key, |(_, name)| name.as_str())
    }

    /// The name of opinion group `index` (0 is the largest): from
    /// [`ChartLabels::group_names`], or else the group word and [`group_letter`].
    pub fn group_name(&self, index: usize) -> String {
        if let Some(name) = self.group_names.get(index) {
            return name.clone();
        }
        let letter = group_letter(index);
        let word = self.group_word.trim();
        if word.is_empty() {
            letter
        } else {
            format!("{word} {letter}")
        }
    }
}

/// The letter of opinion group `index`: `A` for 0 … `Z` for 25, then `AA`, `AB`, … (as
/// spreadsheet columns), so that the page's table can name groups as the chart does.
pub fn group_letter(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index;
    loop {
        // `n % 26` is below 26, so the cast cannot truncate.
        letters.push(char::from(b'A' + (n % 26) as u8));
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    letters.iter().rev().collect()
}

/// The verdict split as horizontal bars, one per [`Share`] in the order given: the bar is
/// the share, a whisker across it the 95% Wilson interval (`low` to `high`), the label at
/// its end the share in whole percent. Bar names come from [`ChartLabels::name`] of each
/// [`Share::label`]. Without any verdicts the chart shows [`ChartLabels::no_data`].
pub fn verdict_chart(shares: &[Share], labels: &ChartLabels) -> String {
    if shares.iter().all(|share| share.count == 0) {
        return no_data(&labels.no_data);
    }
    let max_name_width = WIDTH * 2 / 5;
    let names: Vec<String> = shares
        .iter()
        .map(|share| {
            fit(
                labels.name(&share.label),
                max_chars(max_name_width, LABEL_PX),
            )
        })
        .collect();
    let left = label_column(&names, max_name_width);
    let right = WIDTH - text_width("100%", LABEL_PX) - 14;
    let top = 8;
    let bottom = top + ROW * count_i32(shares.len());
    let height = bottom + 26;
    let x = |value: f64| left + scale(unit(value), right - left);

    render(height, |root| {
        for quarter in 0..=4 {
            let value = f64::from(quarter) / 4.0;
            let grid_x = x(value);
            if quarter > 0 {
                root.draw(&PathElement::new(
                    vec![(grid_x, top), (grid_x, bottom)],
                    GRID.stroke_width(1),
                ))?;
            }
            root.draw(&Text::new(
                percent(value),
                (grid_x, bottom + 6),
                font(TICK_PX, MUTED, HPos::Center, VPos::Top),
            ))?;
        }
        root.draw(&PathElement::new(
            vec![(left, top), (left, bottom)],
            AXIS.stroke_width(1),
        ))?;
        for (index, (share, name)) in shares.iter().zip(&names).enumerate() {
            let row_top = top + ROW * count_i32(index);
            let centre = row_top + ROW / 2;
            let colour = VERDICT_COLOURS
                .get(index)
                .copied()
                .unwrap_or(PALETTE[index % PALETTE.len()]);
            root.draw(&Text::new(
                name.clone(),
                (left - 8, centre),
                font(LABEL_PX, TEXT, HPos::Right, VPos::Center),
            ))?;
            let end = x(share.share);
            root.draw(&Rectangle::new(
                [(left, row_top + 8), (end, row_top + ROW - 8)],
                colour.filled(),
            ))?;
            let (low, high) = (x(share.low.min(share.high)), x(share.low.max(share.high)));
            let whisker = TEXT.stroke_width(2);
            root.draw(&PathElement::new(
                vec![(low, centre), (high, centre)],
                whisker,
            ))?;
            for cap in [low, high] {
                root.draw(&PathElement::new(
                    vec![(cap, centre - 6), (cap, centre + 6)],
                    whisker,
                ))?;
            }
            root.draw(&Text::new(
                percent(share.share),
                (end.max(high) + 6, centre),
                font(LABEL_PX, TEXT, HPos::Left, VPos::Center),
            ))?;
        }
        Ok(())
    })
}

/// Posts per day as vertical bars, oldest first. `days` holds `(YYYY-MM-DD, posts)`;
/// when every day parses, days without posts between the first and the last are added
/// as zero (up to two years), so that the bars form a time line. Days are labelled
/// `DD-MM`, thinned to every second, third, … bar when they would not fit. With no days
/// the chart shows [`ChartLabels::no_data`].
pub fn activity_chart(days: &[(String, u64)], labels: &ChartLabels) -> String {
    let days = fill_gaps(days);
    if days.is_empty() {
        return no_data(&labels.no_data);
    }
    let most = days.iter().map(|(_, posts)| *posts).max().unwrap_or(0);
    let ticks = count_ticks(most);
    let ceiling = ticks.last().copied().unwrap_or(1).max(1);
    let tick_labels: Vec<String> = ticks.iter().map(u64::to_string).collect();
    let left = tick_labels
        .iter()
        .map(|label| text_width(label, TICK_PX))
        .max()
        .unwrap_or(0)
        + 12;
    let right = WIDTH - 18;
    let (top, bottom) = (12, 194);
    let height = bottom + 26;
    let slot = f64::from(right - left) / days.len() as f64;
    let gap = if slot >= 4.0 { slot * 0.15 } else { 0.0 };
    let y = |posts: u64| bottom - scale(posts as f64 / ceiling as f64, bottom - top);
    let slot_x = |position: f64| left + pixel(position * slot);
    let label_width = text_width("00-00", TICK_PX) + 10;
    let fitting = usize::try_from((right - left) / label_width)
        .unwrap_or(1)
        .max(1);
    let step = days.len().div_ceil(fitting).max(1);

    render(height, |root| {
        for (tick, label) in ticks.iter().zip(tick_labels) {
            let tick_y = y(*tick);
            if *tick > 0 {
                root.draw(&PathElement::new(
                    vec![(left, tick_y), (right, tick_y)],
                    GRID.stroke_width(1),
                ))?;
            }
            root.draw(&Text::new(
                label,
                (left - 6, tick_y),
                font(TICK_PX, MUTED, HPos::Right, VPos::Center),
            ))?;
        }
        for (index, (_, posts)) in days.iter().enumerate() {
            let position = index as f64;
            let (x0, x1) = (
                slot_x(position) + pixel(gap),
                slot_x(position + 1.0) - pixel(gap),
            );
            root.draw(&Rectangle::new(
                [(x0, y(*posts)), (x1.max(x0), bottom)],
                PALETTE[0].filled(),
            ))?;
        }
        root.draw(&PathElement::new(
            vec![(left, bottom), (right, bottom)],
            AXIS.stroke_width(1),
        ))?;
        for (index, (day, _)) in days.iter().enumerate().step_by(step) {
            let centre = slot_x(index as f64 + 0.5);
            root.draw(&PathElement::new(
                vec![(centre, bottom), (centre, bottom + 4)],
                AXIS.stroke_width(1),
            ))?;
            root.draw(&Text::new(
                short_day(day),
                (centre, bottom + 6),
                font(TICK_PX, MUTED, HPos::Center, VPos::Top),
            ))?;
        }
        Ok(())
    })
}

/// The opinion map: every participant at their place on the two principal components
/// (same scale on both axes, so distances can be compared), coloured and shaped by
/// group; participants outside any group are hollow grey circles. Each group's name
/// ([`ChartLabels::group_name`]) stands at its centre with its marker. With no
/// participants the chart shows [`ChartLabels::no_data`].
pub fn opinion_map_chart(map: &OpinionMap, labels: &ChartLabels) -> String {
    const HEIGHT: i32 = 300;
    const PAD: i32 = 12;
    const RADIUS: i32 = 5;
    let points: Vec<(f64, f64, Option<usize>)> = map
        .participants
        .iter()
        .filter(|point| point.x.is_finite() && point.y.is_finite())
        .map(|point| (point.x, point.y, point.group))
        .collect();
    if points.is_empty() {
        return no_data(&labels.no_data);
    }
    let centres: Vec<(usize, f64, f64)> = map
        .groups
        .iter()
        .enumerate()
        .filter(|(_, group)| group.centre.0.is_finite() && group.centre.1.is_finite())
        .map(|(index, group)| (index, group.centre.0, group.centre.1))
        .collect();
    let (mut min_x, mut max_x, mut min_y, mut max_y) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in points
        .iter()
        .map(|(x, y, _)| (*x, *y))
        .chain(centres.iter().map(|(_, x, y)| (*x, *y)))
    {
        min_x = min_x.min(x);
        max_x = max_x.max(x);
        min_y = min_y.min(y);
        max_y = max_y.max(y);
    }
    let (left, top, right, bottom) = (PAD, PAD, WIDTH - PAD, HEIGHT - PAD);
    let inner_width = f64::from(right - left - 4 * RADIUS);
    let inner_height = f64::from(bottom - top - 4 * RADIUS);
    let fit_x = if max_x - min_x > 1e-12 {
        inner_width / (max_x - min_x)
    } else {
        f64::INFINITY
    };
    let fit_y = if max_y - min_y > 1e-12 {
        inner_height / (max_y - min_y)
    } else {
        f64::INFINITY
    };
    let factor = match fit_x.min(fit_y) {
        factor if factor.is_finite() => factor,
        _ => 1.0,
    };
    let (mid_x, mid_y) = ((min_x + max_x) / 2.0, (min_y + max_y) / 2.0);
    let (centre_x, centre_y) = (f64::from(left + right) / 2.0, f64::from(top + bottom) / 2.0);
    let to_pixel = |x: f64, y: f64| {
        (
            pixel(centre_x + (x - mid_x) * factor),
            pixel(centre_y - (y - mid_y) * factor),
        )
    };

    render(HEIGHT, |root| {
        root.draw(&Rectangle::new(
            [(left, top), (right, bottom)],
            GRID.stroke_width(1),
        ))?;
        let (origin_x, origin_y) = to_pixel(0.0, 0.0);
        if (left..=right).contains(&origin_x) {
            root.draw(&PathElement::new(
                vec![(origin_x, top), (origin_x, bottom)],
                GRID.stroke_width(1),
            ))?;
        }
        if (top..=bottom).contains(&origin_y) {
            root.draw(&PathElement::new(
                vec![(left, origin_y), (right, origin_y)],
                GRID.stroke_width(1),
            ))?;
        }
        for (x, y, group) in &points {
            let at = to_pixel(*x, *y);
            match group {
                Some(index) => draw_marker(root, *index, at, RADIUS)?,
                None => {
                    root.draw(&Circle::new(at, RADIUS - 1, UNGROUPED.stroke_width(2)))?;
                }
            }
        }
        for (index, x, y) in &centres {
            let name = fit(&labels.group_name(*index), 24);
            let box_width = 2 * RADIUS + 18 + text_width(&name, LABEL_PX);
            let box_height = 24;
            let (at_x, at_y) = to_pixel(*x, *y);
            let box_left = clamp_start(at_x - box_width / 2, box_width, left + 2, right - 2);
            let box_top = clamp_start(at_y - box_height / 2, box_height, top + 2, bottom - 2);
            let colour = PALETTE[index % PALETTE.len()];
            root.draw(&Rectangle::new(
                [
                    (box_left, box_top),
                    (box_left + box_width, box_top + box_height),
                ],
                WHITE.mix(0.9).filled(),
            ))?;
            root.draw(&Rectangle::new(
                [
                    (box_left, box_top),
                    (box_left + box_width, box_top + box_height),
                ],
                colour.stroke_width(1),
            ))?;
            let middle = box_top + box_height / 2;
            draw_marker(root, *index, (box_left + 6 + RADIUS, middle), RADIUS)?;
            root.draw(&Text::new(
                name,
                (box_left + 2 * RADIUS + 12, middle),
                font(LABEL_PX, TEXT, HPos::Left, VPos::Center),
            ))?;
        }
        Ok(())
    })
}

/// The participation funnel: one centred horizontal bar per `(name, count)` step in the
/// order given (invited, logged in, reacted, replied, weighed), its length relative to
/// the largest count, with the count at its end and, after the first step, the share of
/// the first step's count. With no steps the chart is blank.
pub fn participation_chart(steps: &[(String, u64)]) -> String {
    let Some(first) = steps.first().map(|(_, count)| *count) else {
        return no_data("");
    };
    let max_name_width = WIDTH * 2 / 5;
    let names: Vec<String> = steps
        .iter()
        .map(|(name, _)| fit(name, max_chars(max_name_width, LABEL_PX)))
        .collect();
    let values: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(index, (_, count))| {
            if index > 0 && first > 0 {
                format!("{count} ({})", percent(*count as f64 / first as f64))
            } else {
                count.to_string()
            }
        })
        .collect();
    let most = steps
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(0)
        .max(1);
    let left = label_column(&names, max_name_width);
    let value_width = values
        .iter()
        .map(|value| text_width(value, LABEL_PX))
        .max()
        .unwrap_or(0);
    let right = (WIDTH - 8 - value_width - 8).max(left + 20);
    let middle = (left + right) / 2;
    let top = 8;
    let height = top + ROW * count_i32(steps.len()) + 8;
    let bar = |count: u64| {
        let half = scale(count as f64 / most as f64, right - left) / 2;
        (middle - half, middle + half)
    };

    render(height, |root| {
        for (index, window) in steps.windows(2).enumerate() {
            let (upper, lower) = (bar(window[0].1), bar(window[1].1));
            let upper_y = top + ROW * count_i32(index) + ROW - 8;
            let lower_y = upper_y + 16;
            root.draw(&Polygon::new(
                vec![
                    (upper.0, upper_y),
                    (upper.1, upper_y),
                    (lower.1, lower_y),
                    (lower.0, lower_y),
                ],
                FUNNEL_BAND.filled(),
            ))?;
        }
        for (index, ((name, value), (_, count))) in names.iter().zip(&values).zip(steps).enumerate()
        {
            let row_top = top + ROW * count_i32(index);
            let centre = row_top + ROW / 2;
            let (start, end) = bar(*count);
            root.draw(&Text::new(
                name.clone(),
                (left - 8, centre),
                font(LABEL_PX, TEXT, HPos::Right, VPos::Center),
            ))?;
            root.draw(&Rectangle::new(
                [(start, row_top + 8), (end, row_top + ROW - 8)],
                PALETTE[0].filled(),
            ))?;
            root.draw(&Text::new(
                value.clone(),
                (end + 6, centre),
                font(LABEL_PX, TEXT, HPos::Left, VPos::Center),
            ))?;
        }
        Ok(())
    })
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// Draws a `WIDTH` × `height` chart on a white ground and returns it with the root tag
/// described in the module documentation; a blank chart if plotters reports an error
/// (its SVG backend writes to a `String` and has none in practice).
fn render(height: i32, draw: impl FnOnce(&Area<'_>) -> Drawn) -> String {
    let height = height.max(EMPTY_HEIGHT);
    let mut buffer = String::new();
    let drawn = {
        let size = (WIDTH.unsigned_abs(), height.unsigned_abs());
        let root = SVGBackend::with_string(&mut buffer, size).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present())
    };
    // Plotters opens with `<svg width=".." height=".." viewBox=".." xmlns="..">`; its
    // attribute values are escaped, so the first `>` ends that tag.
    match (drawn, buffer.find('>')) {
        (Ok(()), Some(end)) if buffer.starts_with("<svg ") => {
            let mut out = root_tag(height);
            out.push_str(buffer[end + 1..].trim_start_matches('\n'));
            out
        }
        _ => format!("{}</svg>\n", root_tag(EMPTY_HEIGHT)),
    }
}

/// The opening tag of every chart: scalable, and hidden from assistive technology
/// because the page's table says the same in text.
fn root_tag(height: i32) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"100%\" preserveAspectRatio=\"xMidYMid meet\" aria-hidden=\"true\" \
         focusable=\"false\">\n"
    )
}

/// A small chart holding only `text` (nothing when it is empty).
fn no_data(text: &str) -> String {
    let text = fit(text, max_chars(WIDTH - 16, LABEL_PX));
    render(EMPTY_HEIGHT, |root| {
        if text.is_empty() {
            return Ok(());
        }
        root.draw(&Text::new(
            text,
            (WIDTH / 2, EMPTY_HEIGHT / 2),
            font(LABEL_PX, MUTED, HPos::Center, VPos::Center),
        ))
    })
}

/// A text style of `px` units in `colour`, anchored at `h`, `v`.
fn font(px: f64, colour: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle {
        font: ("sans-serif", px * FONT_SCALE).into_font(),
        color: colour.to_backend_color(),
        pos: Pos::new(h, v),
    }
}

/// Draws the marker of opinion group `group` (its colour and shape) centred at `at`.
fn draw_marker(root: &Area<'_>, group: usize, at: (i32, i32), radius: i32) -> Drawn {
    let colour = PALETTE[group % PALETTE.len()].filled();
    let (x, y) = at;
    let r = radius;
    match SHAPES[group % SHAPES.len()] {
        Shape::Circle => root.draw(&Circle::new(at, r, colour)),
        Shape::TriangleUp => root.draw(&Polygon::new(
            vec![(x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)],
            colour,
        )),
        Shape::Square => root.draw(&Rectangle::new(
            [(x - r + 1, y - r + 1), (x + r - 1, y + r - 1)],
            colour,
        )),
        Shape::Diamond => root.draw(&Polygon::new(
            vec![
                (x, y - r - 1),
                (x + r + 1, y),
                (x, y + r + 1),
                (x - r - 1, y),
            ],
            colour,
        )),
        Shape::TriangleDown => root.draw(&Polygon::new(
            vec![(x, y + r + 1), (x + r + 1, y - r), (x - r - 1, y - r)],
            colour,
        )),
        Shape::Plus => {
            root.draw(&Rectangle::new([(x - r, y - 1), (x + r, y + 1)], colour))?;
            root.draw(&Rectangle::new([(x - 1, y - r), (x + 1, y + r)], colour))
        }
    }
}

/// Width of the name column left of a bar chart: the widest name plus a gap, at most
/// `max_width` plus the gap.
fn label_column(names: &[String], max_width: i32) -> i32 {
    names
        .iter()
        .map(|name| text_width(name, LABEL_PX))
        .max()
        .unwrap_or(0)
        .min(max_width)
        + 14
}

/// `text` fit for a chart: control characters (which XML does not allow) as spaces,
/// trimmed, and cut to `max` characters with an ellipsis.
fn fit(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let clean = clean.trim();
    if clean.chars().count() <= max {
        return clean.to_owned();
    }
    let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Estimated width of `text` at `px` units.
fn text_width(text: &str, px: f64) -> i32 {
    pixel((text.chars().count() as f64 * px * CHAR_WIDTH).ceil())
}

/// How many characters of `px` units fit in `width` (at least 1).
fn max_chars(width: i32, px: f64) -> usize {
    (f64::from(width) / (px * CHAR_WIDTH)).floor().max(1.0) as usize
}

/// `value` clamped to 0..=1, NaN as 0.
fn unit(value: f64) -> f64 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, 1.0)
    }
}

/// A fraction of `length` pixels, rounded.
fn scale(fraction: f64, length: i32) -> i32 {
    pixel(unit(fraction) * f64::from(length))
}

/// A coordinate rounded to a pixel; NaN as 0 (infinities saturate).
fn pixel(value: f64) -> i32 {
    if value.is_nan() {
        0
    } else {
        value.round() as i32
    }
}

/// A count as a pixel multiplier (saturating; charts never hold that many rows).
fn count_i32(count: usize) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// Where a span of `length` starting at `start` must start to lie within `low..=high`
/// (at `low` when it is longer than the room).
fn clamp_start(start: i32, length: i32, low: i32, high: i32) -> i32 {
    start.min(high - length).max(low)
}

/// A share as whole percent, e.g. `42%`.
fn percent(share: f64) -> String {
    format!("{}%", (unit(share) * 100.0).round() as u32)
}

/// The ticks of a count axis from 0 up to at least `most`: 0 and up to four steps of
/// 1, 2 or 5 times a power of ten.
fn count_ticks(most: u64) -> Vec<u64> {
    let most = most.max(1);
    let mut power = 1u64;
    for _ in 0..20 {
        for multiple in [1, 2, 5] {
            let step = power.saturating_mul(multiple);
            let steps = most.div_ceil(step);
            if steps <= 4 {
                return (0..=steps).map(|k| k.saturating_mul(step)).collect();
            }
        }
        power = power.saturating_mul(10);
    }
    vec![0, most]
}

/// `days` oldest first with missing days added as zero, when every day is a
/// `YYYY-MM-DD` date and the span is at most [`MAX_FILLED_DAYS`]; otherwise as given.
fn fill_gaps(days: &[(String, u64)]) -> Vec<(String, u64)> {
    let parsed: Option<BTreeMap<NaiveDate, u64>> =
        days.iter()
            .try_fold(BTreeMap::new(), |mut counts, (day, posts)| {
                let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
                let entry: &mut u64 = counts.entry(date).or_default();
                *entry = entry.saturating_add(*posts);
                Some(counts)
            });
    let Some(counts) = parsed else {
        return days.to_vec();
    };
    let (Some((first, _)), Some((last, _))) = (counts.first_key_value(), counts.last_key_value())
    else {
        return Vec::new();
    };
    let span = (*last - *first).num_days();
    if span > MAX_FILLED_DAYS {
        return days.to_vec();
    }
    first
        .iter_days()
        .take_while(|date| date <= last)
        .map(|date| {
            (
                date.format("%Y-%m-%d").to_string(),
                counts.get(&date).copied().unwrap_or(0),
            )
        })
        .collect()
}

/// A day label: `DD-MM` for a `YYYY-MM-DD` date, else the text itself (shortened).
fn short_day(day: &str) -> String {
    match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(date) => date.format("%d-%m").to_string(),
        Err(_) => fit(day, 8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::opinion::{Group, ParticipantPoint};
    use crate::analysis::stats::verdict_split;

    fn labels() -> ChartLabels {
        ChartLabels {
            no_data: "Nog geen gegevens".into(),
            names: vec![
                ("eens".into(), "Eens".into()),
                ("oneens".into(), "Oneens".into()),
                ("twijfel".into(), "Twijfel".into()),
            ],
            group_names: Vec::new(),
            group_word: "Groep".into(),
        }
    }

    fn hex(colour: RGBColor) -> String {
        format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2)
    }

    fn number(node: roxmltree::Node<'_, '_>, name: &str) -> f64 {
        node.attribute(name)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{name} on {node:?}"))
    }

    /// Parses `svg` and checks what every chart must hold; returns the texts shown.
    fn check(svg: &str) -> Vec<String> {
        assert!(
            svg.starts_with("<svg "),
            "starts with the svg tag: {svg:.80}"
        );
        assert!(!svg.contains("style"), "no style attribute or element");
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "finite coordinates"
        );
        let document = roxmltree::Document::parse(svg).expect("well-formed XML");
        let root = document.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("width"), Some("100%"));
        assert_eq!(root.attribute("height"), None);
        assert_eq!(root.attribute("aria-hidden"), Some("true"));
        assert_eq!(root.attribute("focusable"), Some("false"));
        assert_eq!(root.attribute("role"), None);
        let view_box: Vec<f64> = root
            .attribute("viewBox")
            .expect("viewBox")
            .split(' ')
            .map(|n| n.parse().expect("number"))
            .collect();
        assert_eq!(view_box[..3], [0.0, 0.0, f64::from(WIDTH)]);
        assert!(view_box[3] >= f64::from(EMPTY_HEIGHT));
        for node in document
            .descendants()
            .filter(|n| n.is_element() && *n != root)
        {
            assert!(node.attribute("style").is_none());
            assert_ne!(node.tag_name().name(), "style");
            for attribute in node.attributes() {
                if ["x", "y", "width", "height", "cx", "cy", "r"].contains(&attribute.name()) {
                    let value: f64 = attribute.value().parse().expect("numeric coordinate");
                    assert!(value.is_finite());
                }
            }
        }
        document
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or_default().trim().to_owned())
            .collect()
    }

    /// The filled rectangles of `colour`, as (x, width).
    fn bars(svg: &str, colour: RGBColor) -> Vec<(f64, f64)> {
        let document = roxmltree::Document::parse(svg).expect("well-formed XML");
        let fill = hex(colour);
        document
            .descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(fill.as_str()))
            .map(|n| (number(n, "x"), number(n, "width")))
            .collect()
    }

    #[test]
    fn verdict_chart_has_one_bar_per_verdict_proportional_to_its_share() {
        let shares = verdict_split(&[
            ("eens".into(), 50),
            ("oneens".into(), 30),
            ("twijfel".into(), 20),
        ]);
        let svg = verdict_chart(&shares, &labels());
        let texts = check(&svg);
        for text in [
            "Eens", "Oneens", "Twijfel", "50%", "30%", "20%", "0%", "100%",
        ] {
            assert!(texts.iter().any(|t| t == text), "{text} in {texts:?}");
        }
        let widths: Vec<f64> = VERDICT_COLOURS
            .iter()
            .map(|colour| {
                let found = bars(&svg, *colour);
                assert_eq!(found.len(), 1, "one bar of {}", hex(*colour));
                found[0].1
            })
            .collect();
        let full = widths[0] / 0.5;
        assert!(full > 150.0, "the bars use the width: {full}");
        for (width, share) in widths.iter().zip([0.5, 0.3, 0.2]) {
            assert!((width - share * full).abs() <= 1.0, "{width} vs {share}");
        }
        // Two caps and a whisker per interval, the caps at the interval's ends.
        let document = roxmltree::Document::parse(&svg).expect("xml");
        let left = bars(&svg, VERDICT_COLOURS[0])[0].0;
        let whiskers: Vec<&str> = document
            .descendants()
            .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some("#1F1F1F"))
            .filter_map(|n| n.attribute("points"))
            .collect();
        assert_eq!(whiskers.len(), 9);
        let low = left + shares[0].low * full;
        let high = left + shares[0].high * full;
        let first: Vec<f64> = whiskers[0]
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().expect("number"))
            .collect();
        assert!((first[0] - low).abs() <= 1.0 && (first[2] - high).abs() <= 1.0);
    }

    #[test]
    fn texts_are_escaped() {
        let mut labels = labels();
        labels.names[0].1 = "<script>\"&</script>".into();
        let shares = verdict_split(&[("eens".into(), 3), ("<b>\u{7}".into(), 1)]);
        let svg = verdict_chart(&shares, &labels);
        assert!(!svg.contains("<script") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;&quot;&amp;&lt;/script&gt;"));
        let texts = check(&svg);
        assert!(texts.iter().any(|t| t == "<script>\"&</script>"));
        assert!(
            texts.iter().any(|t| t == "<b>"),
            "control character dropped"
        );

        let svg = participation_chart(&[("<img src=x>".into(), 3)]);
        assert!(!svg.contains("<img") && svg.contains("&lt;img src=x&gt;"));
        check(&svg);
    }

    #[test]
    fn long_names_are_shortened() {
        let mut labels = labels();
        labels.names[0].1 = "heel ".repeat(40);
        let svg = verdict_chart(&verdict_split(&[("eens".into(), 3)]), &labels);
        let texts = check(&svg);
        let name = texts.iter().find(|t| t.starts_with("heel")).expect("name");
        assert!(name.ends_with('…'));
        assert!(text_width(name, LABEL_PX) <= WIDTH * 2 / 5);
    }

    #[test]
    fn empty_input_gives_a_small_chart() {
        let labels = labels();
        let no_verdicts = verdict_split(&[("eens".into(), 0), ("oneens".into(), 0)]);
        for svg in [
            verdict_chart(&[], &labels),
            verdict_chart(&no_verdicts, &labels),
            activity_chart(&[], &labels),
            opinion_map_chart(&OpinionMap::default(), &labels),
        ] {
            assert_eq!(check(&svg), ["Nog geen gegevens"]);
            assert!(svg.contains(&format!("viewBox=\"0 0 {WIDTH} {EMPTY_HEIGHT}\"")));
        }
        let blank = participation_chart(&[]);
        assert!(check(&blank).is_empty());
        assert!(check(&verdict_chart(&[], &ChartLabels::default())).is_empty());
    }

    #[test]
    fn activity_fills_missing_days_and_labels_them_short() {
        let days = vec![("2025-11-21".to_string(), 3), ("2025-11-23".to_string(), 8)];
        let svg = activity_chart(&days, &labels());
        let texts = check(&svg);
        for text in ["21-11", "22-11", "23-11", "0", "8"] {
            assert!(texts.iter().any(|t| t == text), "{text} in {texts:?}");
        }
        let found = bars(&svg, PALETTE[0]);
        assert_eq!(found.len(), 3);
        let document = roxmltree::Document::parse(&svg).expect("xml");
        let heights: Vec<f64> = document
            .descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("#0072B2"))
            .map(|n| number(n, "height"))
            .collect();
        assert_eq!(heights[1], 0.0);
        assert!((heights[0] / heights[2] - 3.0 / 8.0).abs() < 0.02);
    }

    #[test]
    fn activity_thins_out_day_labels() {
        let days: Vec<(String, u64)> = (0..90)
            .map(|offset| {
                let day = NaiveDate::from_ymd_opt(2025, 9, 1)
                    .and_then(|d| d.checked_add_days(chrono::Days::new(offset)))
                    .expect("date");
                (day.format("%Y-%m-%d").to_string(), offset % 7)
            })
            .collect();
        let svg = activity_chart(&days, &labels());
        let texts = check(&svg);
        let dates = texts
            .iter()
            .filter(|t| t.len() == 5 && t.contains('-'))
            .count();
        assert!((2..=10).contains(&dates), "{dates} day labels");
        assert!(texts.iter().any(|t| t == "01-09"));
        assert_eq!(bars(&svg, PALETTE[0]).len(), 90);
    }

    #[test]
    fn activity_keeps_days_it_cannot_read() {
        let days = vec![("week 1".to_string(), 4), ("week 2".to_string(), 0)];
        let texts = check(&activity_chart(&days, &labels()));
        assert!(texts.iter().any(|t| t == "week 1"));
        assert!(texts.iter().any(|t| t == "week 2"));
    }

    fn point(participant: u64, x: f64, y: f64, group: Option<usize>) -> ParticipantPoint {
        ParticipantPoint {
            participant,
            x,
            y,
            group,
        }
    }

    fn group(id: usize, size: usize, centre: (f64, f64)) -> Group {
        Group {
            id,
            size,
            centre,
            representative: Vec::new(),
        }
    }

    #[test]
    fn opinion_map_colours_and_shapes_groups_and_names_them() {
        let map = OpinionMap {
            participants: vec![
                point(1, -2.0, 1.0, Some(0)),
                point(2, -1.5, 0.5, Some(0)),
                point(3, 2.0, -1.0, Some(1)),
                point(4, 1.5, -0.5, Some(1)),
                point(5, f64::NAN, 0.0, Some(1)),
            ],
            groups: vec![group(0, 2, (-1.75, 0.75)), group(1, 2, (1.75, -0.75))],
            ..OpinionMap::default()
        };
        let svg = opinion_map_chart(&map, &labels());
        let texts = check(&svg);
        assert_eq!(texts, ["Groep A", "Groep B"]);
        let document = roxmltree::Document::parse(&svg).expect("xml");
        let circles = document
            .descendants()
            .filter(|n| n.has_tag_name("circle") && n.attribute("fill") == Some("#0072B2"))
            .count();
        let triangles = document
            .descendants()
            .filter(|n| n.has_tag_name("polygon") && n.attribute("fill") == Some("#B84A00"))
            .count();
        assert_eq!(
            (circles, triangles),
            (3, 3),
            "two points and a legend marker each"
        );
        // Same scale on both axes: a step of (0.5, -0.5) is as long across as down (the
        // pixel y axis points down).
        let centres: Vec<(f64, f64)> = document
            .descendants()
            .filter(|n| n.has_tag_name("circle"))
            .map(|n| (number(n, "cx"), number(n, "cy")))
            .collect();
        let dx = centres[1].0 - centres[0].0;
        let dy = centres[1].1 - centres[0].1;
        assert!(dx > 10.0 && (dx - dy).abs() <= 1.0, "{centres:?}");
    }

    #[test]
    fn opinion_map_without_groups_or_spread_stays_finite() {
        let map = OpinionMap {
            participants: vec![point(1, 0.5, 0.5, None), point(2, 0.5, 0.5, None)],
            ..OpinionMap::default()
        };
        let svg = opinion_map_chart(&map, &labels());
        assert!(check(&svg).is_empty());
        assert_eq!(svg.matches("<circle").count(), 2);
        let mut named = labels();
        named.group_names = vec!["Voorstanders".into()];
        assert_eq!(named.group_name(0), "Voorstanders");
        assert_eq!(named.group_name(1), "Groep B");
        named.group_word.clear();
        assert_eq!(named.group_name(2), "C");
    }

    #[test]
    fn group_letters_go_on_past_z() {
        let letters: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702]
            .into_iter()
            .map(group_letter)
            .collect();
        assert_eq!(
            letters,
            ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]
        );
    }

    #[test]
    fn participation_funnel_shows_counts_and_shares_of_the_invited() {
        let steps: Vec<(String, u64)> = vec![
            ("Uitgenodigd".into(), 120),
            ("Ingelogd".into(), 90),
            ("Gereageerd".into(), 60),
            ("Geantwoord".into(), 0),
            ("Gewogen".into(), 30),
        ];
        let svg = participation_chart(&steps);
        let texts = check(&svg);
        for text in [
            "Uitgenodigd",
            "Gewogen",
            "120",
            "90 (75%)",
            "60 (50%)",
            "0 (0%)",
            "30 (25%)",
        ] {
            assert!(texts.iter().any(|t| t == text), "{text} in {texts:?}");
        }
        let found = bars(&svg, PALETTE[0]);
        assert_eq!(found.len(), 5);
        let full = found[0].1;
        for ((x, width), (_, count)) in found.iter().zip(&steps) {
            assert!((width - full * *count as f64 / 120.0).abs() <= 1.0);
            // Centred on the first bar.
            assert!(((x + width / 2.0) - (found[0].0 + full / 2.0)).abs() <= 1.0);
        }
    }

    #[test]
    fn count_ticks_are_round() {
        assert_eq!(count_ticks(0), [0, 1]);
        assert_eq!(count_ticks(3), [0, 1, 2, 3]);
        assert_eq!(count_ticks(12), [0, 5, 10, 15]);
        assert_eq!(count_ticks(41), [0, 20, 40, 60]);
        assert_eq!(count_ticks(1000), [0, 500, 1000]);
        assert!(
            count_ticks(u64::MAX)
                .last()
                .is_some_and(|top| *top == u64::MAX)
        );
    }

    fn contrast(colour: RGBColor) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let luminance =
            0.2126 * linear(colour.0) + 0.7152 * linear(colour.1) + 0.0722 * linear(colour.2);
        1.05 / (luminance + 0.05)
    }

    #[test]
    fn colours_reach_aa_contrast_on_white() {
        for colour in PALETTE
            .iter()
            .chain(&VERDICT_COLOURS)
            .chain(&[TEXT, MUTED, AXIS, UNGROUPED])
        {
            assert!(
                contrast(*colour) >= 4.5,
                "{}: {}",
                hex(*colour),
                contrast(*colour)
            );
        }
    }

    #[test]
    fn font_sizes_are_written_as_asked() {
        let svg = verdict_chart(&verdict_split(&[("eens".into(), 1)]), &labels());
        assert!(svg.contains("font-size=\"14\"") && svg.contains("font-size=\"12\""));
    }
}
