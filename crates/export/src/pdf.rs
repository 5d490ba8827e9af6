//! The song information sheet as an A4 PDF (printpdf, the standard Helvetica faces, so
//! nothing is embedded and every viewer shows the same thing): a title block, the song
//! and format facts, the delivery checks (null test, trim), then one table per stem,
//! the master and each variant, with a footer on every page.

use printpdf::{
    BuiltinFont, Color, Line, LinePoint, Op, PaintMode, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Polygon, PolygonRing, Pt, Rgb, TextItem, WindingOrder,
};

use crate::sheet::{FileFacts, Sheet};

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 48.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Content stops this far above the bottom edge (the footer lives below).
const BOTTOM: f32 = 66.0;

#[derive(Clone, Copy)]
struct Rgb8(u8, u8, u8);

const INK: Rgb8 = Rgb8(0x1A, 0x20, 0x2C);
const MUTED: Rgb8 = Rgb8(0x6B, 0x72, 0x80);
const RULE: Rgb8 = Rgb8(0xE2, 0xE6, 0xEC);
const CARD: Rgb8 = Rgb8(0xF6, 0xF7, 0xF9);
const BAND: Rgb8 = Rgb8(0x1E, 0x24, 0x30);
const BAND_SOFT: Rgb8 = Rgb8(0xA9, 0xB3, 0xC1);
const ACCENT: Rgb8 = Rgb8(0x4F, 0xA3, 0xE0);
const GOOD: Rgb8 = Rgb8(0x2F, 0x85, 0x5A);
const BAD: Rgb8 = Rgb8(0xC5, 0x30, 0x30);
const WHITE: Rgb8 = Rgb8(0xFF, 0xFF, 0xFF);

fn color(c: Rgb8) -> Color {
    Color::Rgb(Rgb {
        r: f32::from(c.0) / 255.0,
        g: f32::from(c.1) / 255.0,
        b: f32::from(c.2) / 255.0,
        icc_profile: None,
    })
}

/// "#RRGGBB" to a colour (`fallback` when malformed).
fn parse_hex(hex: &str, fallback: Rgb8) -> Rgb8 {
    let h = hex.trim().trim_start_matches('#');
    let byte = |i: usize| h.get(i..i + 2).and_then(|s| u8::from_str_radix(s, 16).ok());
    match (h.len(), byte(0), byte(2), byte(4)) {
        (6, Some(r), Some(g), Some(b)) => Rgb8(r, g, b),
        _ => fallback,
    }
}

/// Advance widths of a standard face, from printpdf's copy of its metrics.
struct Metrics {
    widths: std::collections::HashMap<char, f32>,
}

impl Metrics {
    fn new(font: BuiltinFont) -> Self {
        let mut widths = std::collections::HashMap::new();
        if let Some(parsed) = font.get_parsed_font() {
            let upem = f32::from(parsed.units_per_em.max(1));
            for (cp, gid) in &parsed.codepoint_to_glyph {
                if let (Some(c), Some(w)) = (char::from_u32(*cp), parsed.glyph_widths.get(gid)) {
                    widths.insert(c, f32::from(*w) / upem);
                }
            }
        }
        Self { widths }
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.widths.get(&c).copied().unwrap_or(0.556))
            .sum::<f32>()
            * size
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Face {
    Regular,
    Bold,
}

/// Text the standard faces can show (WinAnsi): a few common characters mapped.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{2212}' => '-',
            '\u{2009}' | '\u{202F}' | '\u{00A0}' => ' ',
            '\t' | '\n' | '\r' => ' ',
            c => c,
        })
        .collect()
}

struct Writer {
    regular: Metrics,
    bold: Metrics,
    pages: Vec<Vec<Op>>,
    /// The page being drawn on.
    current: usize,
    /// The current baseline position, from the top of the page.
    y: f32,
    title: String,
}

impl Writer {
    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let i = self.current.min(self.pages.len() - 1);
        &mut self.pages[i]
    }

    fn metrics(&self, face: Face) -> &Metrics {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        }
    }

    fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        self.metrics(face).width(&printable(text), size)
    }

    /// Text with its baseline `top` points below the top edge.
    fn text(&mut self, x: f32, top: f32, face: Face, size: f32, c: Rgb8, text: &str) {
        let font = match face {
            Face::Regular => BuiltinFont::Helvetica,
            Face::Bold => BuiltinFont::HelveticaBold,
        };
        let text = printable(text);
        self.ops().extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::Builtin(font),
                size: Pt(size),
            },
            Op::SetFillColor { col: color(c) },
            Op::SetTextCursor {
                pos: Point {
                    x: Pt(x),
                    y: Pt(PAGE_H - top),
                },
            },
            Op::ShowText {
                items: vec![TextItem::Text(text)],
            },
            Op::EndTextSection,
        ]);
    }

    fn text_right(&mut self, right: f32, top: f32, face: Face, size: f32, c: Rgb8, text: &str) {
        let w = self.width(face, size, text);
        self.text(right - w, top, face, size, c, text);
    }

    /// A filled rectangle whose top edge is `top` below the top of the page.
    fn rect(&mut self, x: f32, top: f32, w: f32, h: f32, c: Rgb8) {
        let y0 = PAGE_H - top - h;
        let pt = |x: f32, y: f32| LinePoint {
            p: Point { x: Pt(x), y: Pt(y) },
            bezier: false,
        };
        self.ops().extend([
            Op::SetFillColor { col: color(c) },
            Op::DrawPolygon {
                polygon: Polygon {
                    rings: vec![PolygonRing {
                        points: vec![pt(x, y0), pt(x + w, y0), pt(x + w, y0 + h), pt(x, y0 + h)],
                    }],
                    mode: PaintMode::Fill,
                    winding_order: WindingOrder::NonZero,
                },
            },
        ]);
    }

    fn hline(&mut self, x: f32, top: f32, w: f32, thickness: f32, c: Rgb8) {
        let y = PAGE_H - top;
        let pt = |x: f32| LinePoint {
            p: Point { x: Pt(x), y: Pt(y) },
            bezier: false,
        };
        self.ops().extend([
            Op::SetOutlineColor { col: color(c) },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine {
                line: Line {
                    points: vec![pt(x), pt(x + w)],
                    is_closed: false,
                },
            },
        ]);
    }

    /// Split `text` into lines no wider than `max` (words longer than a line are cut).
    fn wrap(&self, text: &str, face: Face, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.width(face, size, &candidate) <= max {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line: cut it.
                let mut part = String::new();
                for c in word.chars() {
                    part.push(c);
                    if self.width(face, size, &part) > max {
                        part.pop();
                        lines.push(std::mem::take(&mut part));
                        part.push(c);
                    }
                }
                line = part;
            }
            lines.push(line);
        }
        while lines.last().is_some_and(String::is_empty) && lines.len() > 1 {
            lines.pop();
        }
        lines
    }

    /// Start a new page if `height` does not fit below the current position.
    fn ensure(&mut self, height: f32) {
        if self.y + height > PAGE_H - BOTTOM {
            self.new_page();
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.current = self.pages.len() - 1;
        let title = self.title.clone();
        self.text(MARGIN, 44.0, Face::Bold, 11.0, INK, &title);
        self.text_right(
            PAGE_W - MARGIN,
            44.0,
            Face::Regular,
            8.5,
            MUTED,
            "Song information (continued)",
        );
        self.hline(MARGIN, 54.0, CONTENT_W, 0.6, RULE);
        self.y = 78.0;
    }

    /// A small upper-case section label with a rule, kept on the same page as the
    /// `keep` points that follow it.
    fn section(&mut self, label: &str, keep: f32) {
        self.ensure(22.0 + keep);
        self.text(
            MARGIN,
            self.y,
            Face::Bold,
            8.0,
            MUTED,
            &label.to_uppercase(),
        );
        self.hline(MARGIN, self.y + 6.0, CONTENT_W, 0.6, RULE);
        self.y += 22.0;
    }
}

fn fmt_db(v: Option<f64>, unit: &str) -> String {
    crate::sheet::format_level(v, unit, "silent")
}

fn fmt_bpm(bpm: Option<f64>) -> String {
    match bpm {
        Some(b) if (b - b.round()).abs() < 1e-9 => format!("{}", b.round() as i64),
        Some(b) => format!("{b:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned(),
        None => "-".to_owned(),
    }
}

fn or_dash(s: &str) -> String {
    if s.trim().is_empty() {
        "-".to_owned()
    } else {
        s.trim().to_owned()
    }
}

/// The sheet as PDF bytes.
pub fn render(sheet: &Sheet) -> Result<Vec<u8>, String> {
    let title = if sheet.song.title.is_empty() {
        "Untitled".to_owned()
    } else {
        sheet.song.title.clone()
    };
    let mut w = Writer {
        regular: Metrics::new(BuiltinFont::Helvetica),
        bold: Metrics::new(BuiltinFont::HelveticaBold),
        pages: vec![Vec::new()],
        current: 0,
        y: 0.0,
        title: title.clone(),
    };

    // Title block: a dark band across the top.
    let band_h = 124.0;
    w.rect(0.0, 0.0, PAGE_W, band_h, BAND);
    w.rect(0.0, band_h, PAGE_W, 3.0, ACCENT);
    w.text(
        MARGIN,
        40.0,
        Face::Bold,
        8.0,
        ACCENT,
        "SONG INFORMATION  \u{00B7}  STEM DELIVERY",
    );
    w.text_right(
        PAGE_W - MARGIN,
        40.0,
        Face::Regular,
        8.0,
        BAND_SOFT,
        &format!("Stemdeck {}", sheet.stemdeck_version),
    );
    let mut size = 26.0;
    while w.width(Face::Bold, size, &title) > CONTENT_W && size > 12.0 {
        size -= 1.0;
    }
    let title_line = w
        .wrap(&title, Face::Bold, size, CONTENT_W)
        .into_iter()
        .next()
        .unwrap_or_default();
    w.text(MARGIN, 76.0, Face::Bold, size, WHITE, &title_line);
    let artist = if sheet.song.artist.is_empty() {
        "Artist not given".to_owned()
    } else {
        sheet.song.artist.clone()
    };
    w.text(MARGIN, 100.0, Face::Regular, 13.0, BAND_SOFT, &artist);

    // Facts: two rows of four.
    let a = &sheet.audio;
    // Each fact: a label, a value, and a small note under it when there is one.
    let rate_note = (a.sample_rate != a.session_sample_rate)
        .then(|| format!("converted from {} Hz", a.session_sample_rate));
    let tail_note =
        (a.tail_seconds > 0.0).then(|| format!("incl. {:.1} s of silence", a.tail_seconds));
    let date_note = sheet.exported_at.get(11..19).map(|t| format!("{t} UTC"));
    let files = format!(
        "{} stem{}{}",
        sheet.stems.len(),
        if sheet.stems.len() == 1 { "" } else { "s" },
        if sheet.master.is_some() {
            " + master"
        } else {
            ""
        }
    );
    let variants_note = match sheet.variants.len() {
        0 => None,
        1 => Some("+ 1 mix variant".to_owned()),
        n => Some(format!("+ {n} mix variants")),
    };
    let facts: [[(&str, String, Option<String>); 4]; 2] = [
        [
            ("BPM", fmt_bpm(sheet.song.bpm), None),
            ("Key", or_dash(&sheet.song.key), None),
            ("Length", a.length.clone(), tail_note),
            (
                "Exported",
                sheet.exported_at.get(..10).unwrap_or_default().to_owned(),
                date_note,
            ),
        ],
        [
            ("Format", format!("{} stereo", a.container), None),
            ("Sample rate", format!("{} Hz", a.sample_rate), rate_note),
            (
                "Bit depth",
                format!("{}-bit {}", a.bit_depth, a.sample_type),
                a.dither.then(|| "TPDF dither".to_owned()),
            ),
            ("Files", files, variants_note),
        ],
    ];
    w.y = band_h + 34.0;
    let col = CONTENT_W / 4.0;
    for row in &facts {
        for (i, (label, value, note)) in row.iter().enumerate() {
            let x = MARGIN + col * i as f32;
            w.text(x, w.y, Face::Bold, 7.0, MUTED, &label.to_uppercase());
            let mut size = 11.0;
            while w.width(Face::Regular, size, value) > col - 10.0 && size > 8.0 {
                size -= 0.5;
            }
            w.text(x, w.y + 15.0, Face::Regular, size, INK, value);
            if let Some(note) = note {
                w.text(x, w.y + 27.0, Face::Regular, 8.0, MUTED, note);
            }
        }
        w.y += 46.0;
    }

    if !sheet.song.notes.is_empty() {
        w.y += 4.0;
        w.section("Notes", 14.0);
        let lines = w.wrap(&sheet.song.notes, Face::Regular, 9.5, CONTENT_W);
        for line in lines.iter().take(12) {
            w.ensure(14.0);
            w.text(MARGIN, w.y, Face::Regular, 9.5, INK, line);
            w.y += 13.5;
        }
        w.y += 6.0;
    }

    // Delivery checks.
    w.y += 4.0;
    w.section("Delivery checks", 30.0);
    let mut checks: Vec<(&str, bool, String)> = Vec::new();
    if let Some(n) = &sheet.null_test {
        checks.push(("Null test", n.passed, n.message.clone()));
    }
    if let Some(n) = &sheet.null_test_dry {
        checks.push(("Null (dry)", n.passed, n.message.clone()));
    }
    checks.push(("Headroom", true, sheet.trim.message.clone()));
    if !sheet.unassigned_tracks.is_empty() {
        checks.push((
            "Left out",
            true,
            format!(
                "not in any stem, so in no file: {}",
                sheet.unassigned_tracks.join(", ")
            ),
        ));
    }
    let label_w = 74.0;
    for (label, ok, message) in &checks {
        let lines = w.wrap(message, Face::Regular, 9.0, CONTENT_W - label_w - 14.0);
        w.ensure(13.0 * lines.len() as f32 + 6.0);
        w.rect(MARGIN, w.y - 7.0, 7.0, 7.0, if *ok { GOOD } else { BAD });
        w.text(MARGIN + 14.0, w.y, Face::Bold, 9.0, INK, label);
        for line in &lines {
            w.text(MARGIN + label_w + 14.0, w.y, Face::Regular, 9.0, INK, line);
            w.y += 13.0;
        }
        w.y += 4.0;
    }

    w.y += 10.0;
    let first = sheet.stems.first().map_or(0.0, |f| card_height(&w, f));
    w.section(&format!("Stems ({})", sheet.stems.len()), first + 14.0);
    let legend = "Peak: highest sample (dBFS). True peak: ITU-R BS.1770-4, 4x oversampled (dBTP). \
                  Loudness: EBU R128 integrated (LUFS).";
    w.text(MARGIN, w.y - 4.0, Face::Regular, 7.5, MUTED, legend);
    w.y += 10.0;
    for f in &sheet.stems {
        let c = f.color.as_deref().map_or(ACCENT, |h| parse_hex(h, ACCENT));
        file_table(&mut w, f, c, "Tracks");
    }
    if let Some(m) = &sheet.master {
        w.y += 12.0;
        let h = card_height(&w, m);
        w.section("Master", h);
        file_table(&mut w, m, INK, "Stems");
    }
    if !sheet.variants.is_empty() {
        w.y += 12.0;
        let first = sheet.variants.first().map_or(0.0, |f| card_height(&w, f));
        w.section(&format!("Mix variants ({})", sheet.variants.len()), first);
        for v in &sheet.variants {
            file_table(&mut w, v, MUTED, "Stems heard");
        }
    }
    // Footers, now that the page count is known.
    let count = w.pages.len();
    let footer_left = format!(
        "{title}  \u{2013}  song information  \u{00B7}  exported {} with Stemdeck {}",
        sheet.exported_at.replace('T', " ").replace('Z', " UTC"),
        sheet.stemdeck_version
    );
    for i in 0..count {
        w.current = i;
        w.hline(MARGIN, PAGE_H - 42.0, CONTENT_W, 0.6, RULE);
        w.text(
            MARGIN,
            PAGE_H - 28.0,
            Face::Regular,
            7.5,
            MUTED,
            &footer_left,
        );
        w.text_right(
            PAGE_W - MARGIN,
            PAGE_H - 28.0,
            Face::Regular,
            7.5,
            MUTED,
            &format!("Page {} of {count}", i + 1),
        );
    }

    let mut doc = PdfDocument::new(&format!("{title} - Song Info"));
    doc.metadata.info.author = sheet.song.artist.clone();
    doc.metadata.info.creator = format!("Stemdeck {}", sheet.stemdeck_version);
    doc.metadata.info.producer = format!("Stemdeck {} (printpdf)", sheet.stemdeck_version);
    doc.metadata.info.subject = "Song information and stem delivery report".to_owned();
    if let Some(when) = time::OffsetDateTime::parse(
        &sheet.exported_at,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()
    .and_then(|t| printpdf::date::DateTime::from_unix_timestamp(t.unix_timestamp()).ok())
    {
        doc.metadata.info.creation_date = when;
        doc.metadata.info.modification_date = when;
        doc.metadata.info.metadata_date = when;
    }
    let pages = w
        .pages
        .into_iter()
        .map(|ops| PdfPage::new(printpdf::Mm(210.0), printpdf::Mm(297.0), ops))
        .collect();
    let mut warnings = Vec::new();
    let bytes = doc
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings);
    if bytes.is_empty() {
        return Err("printpdf produced no bytes".into());
    }
    Ok(bytes)
}

const CARD_INNER_PAD: f32 = 16.0;
const MEMBERS_INDENT: f32 = 70.0;
const METRIC_COL: f32 = 92.0;

fn member_lines(w: &Writer, f: &FileFacts) -> Vec<String> {
    let inner_w = CONTENT_W - 2.0 * CARD_INNER_PAD + 4.0;
    let members = if f.tracks.is_empty() {
        "-".to_owned()
    } else {
        f.tracks.join(", ")
    };
    w.wrap(&members, Face::Regular, 8.5, inner_w - MEMBERS_INDENT)
}

/// The file's processing ("dry", or its chains), wrapped; none for a file that says
/// nothing about it (a repaired package's).
fn processing_lines(w: &Writer, f: &FileFacts) -> Vec<String> {
    let inner_w = CONTENT_W - 2.0 * CARD_INNER_PAD + 4.0;
    match &f.processing {
        Some(p) => w.wrap(&p.describe(), Face::Regular, 8.5, inner_w - MEMBERS_INDENT),
        None => Vec::new(),
    }
}

/// The height of a file's table, with the space after it.
fn card_height(w: &Writer, f: &FileFacts) -> f32 {
    let processing = processing_lines(w, f).len() as f32;
    let extra = if processing > 0.0 {
        4.0 + 11.5 * processing
    } else {
        0.0
    };
    64.0 + 11.5 * member_lines(w, f).len().saturating_sub(1) as f32 + extra + 8.0
}

/// One file's table: a header with its name, colour and file name, the three
/// measurements, and its member tracks (or stems).
fn file_table(w: &mut Writer, f: &FileFacts, c: Rgb8, members_label: &str) {
    let inner_x = MARGIN + CARD_INNER_PAD;
    let inner_w = CONTENT_W - 2.0 * CARD_INNER_PAD + 4.0;
    let lines = member_lines(w, f);
    let total = card_height(w, f);
    let height = total - 8.0;
    w.ensure(total);
    let top = w.y;
    w.rect(MARGIN, top, CONTENT_W, height, CARD);
    w.rect(MARGIN, top, 4.0, height, c);

    // Header: name and file.
    let name_w = inner_w - 3.0 * METRIC_COL - 8.0;
    let name = w
        .wrap(&f.name, Face::Bold, 12.5, name_w)
        .into_iter()
        .next()
        .unwrap_or_default();
    w.text(inner_x, top + 20.0, Face::Bold, 12.5, INK, &name);
    let mut fsize = 8.0;
    while w.width(Face::Regular, fsize, &f.file) > name_w && fsize > 5.5 {
        fsize -= 0.5;
    }
    w.text(inner_x, top + 33.0, Face::Regular, fsize, MUTED, &f.file);

    // The measurements, right-aligned in three columns.
    let cols = [
        ("PEAK", fmt_db(f.peak_dbfs, "dBFS")),
        ("TRUE PEAK", fmt_db(f.true_peak_dbtp, "dBTP")),
        ("LOUDNESS", fmt_db(f.loudness_lufs, "LUFS")),
    ];
    let right = MARGIN + CONTENT_W - 14.0;
    for (i, (label, value)) in cols.iter().enumerate() {
        let col_right = right - METRIC_COL * (2 - i) as f32;
        w.text_right(col_right, top + 16.0, Face::Bold, 6.5, MUTED, label);
        w.text_right(col_right, top + 31.0, Face::Regular, 11.0, INK, value);
    }
    w.hline(inner_x, top + 42.0, inner_w - 10.0, 0.5, RULE);

    // Members.
    let mut y = top + 55.0;
    w.text(
        inner_x,
        y,
        Face::Bold,
        6.5,
        MUTED,
        &members_label.to_uppercase(),
    );
    for line in &lines {
        w.text(inner_x + MEMBERS_INDENT, y, Face::Regular, 8.5, INK, line);
        y += 11.5;
    }
    let processing = processing_lines(w, f);
    if !processing.is_empty() {
        y += 4.0;
        w.text(inner_x, y, Face::Bold, 6.5, MUTED, "PROCESSING");
        for line in &processing {
            w.text(inner_x + MEMBERS_INDENT, y, Face::Regular, 8.5, INK, line);
            y += 11.5;
        }
    }
    w.y = top + total;
}
