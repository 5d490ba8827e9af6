//! The ruler and the stem lanes: one lane per stem with its tracks as rows, an
//! "Unassigned" lane and a "New stem" drop zone. Tracks (or the selection) are dragged
//! between lanes to regroup; lanes are dragged by their handle to reorder stems.

use egui::{Color32, CornerRadius, Pos2, Rect, Sense, Stroke, pos2, vec2};
use stemdeck_session::routing::MixMode;
use stemdeck_session::{StemId, TrackId};

use crate::app::StemdeckApp;
use crate::effects_ui::fx_button_ui;
use crate::state::ChainOwner;
use crate::theme::{self, LANE_HEADER_HEIGHT, LANE_HEADER_WIDTH, TRACK_ROW_HEIGHT};
use crate::timeline::{ClipDrag, Timeline};
use crate::timeline_ui::{ClipsCtx, clips_ui};
use crate::transport_ui::{meter_ui, vertical_meter_ui};

/// What is being dragged: tracks (in order) …
#[derive(Clone, Debug, PartialEq)]
pub struct TrackDrag(pub Vec<TrackId>);
/// … or a whole lane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LaneDrag(pub StemId);

/// A small toggle ("M", "S") whose accessible name says what it does ("Mute Vocals").
pub fn toggle_ui(
    ui: &mut egui::Ui,
    on: &mut bool,
    text: &str,
    name: &str,
    color: Color32,
    tip: &str,
) -> egui::Response {
    let fill = if *on {
        color
    } else {
        ui.visuals().widgets.inactive.weak_bg_fill
    };
    let text_color = if *on {
        Color32::BLACK
    } else {
        ui.visuals().text_color()
    };
    let r = ui
        .add(
            egui::Button::new(egui::RichText::new(text).color(text_color).strong())
                .fill(fill)
                .min_size(vec2(22.0, 20.0)),
        )
        .on_hover_text(tip);
    if r.clicked() {
        *on = !*on;
    }
    let (on_now, name) = (*on, name.to_owned());
    r.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, on_now, &name));
    r
}

/// The payload dropped on `resp` this frame, if it is a `P`. (egui's own
/// `dnd_release_payload` takes the payload whatever its type, so a zone that accepts two
/// kinds must look before it takes.)
fn release<P: std::any::Any + Send + Sync>(resp: &egui::Response) -> Option<std::sync::Arc<P>> {
    if egui::DragAndDrop::has_payload_of_type::<P>(&resp.ctx) {
        resp.dnd_release_payload::<P>()
    } else {
        None
    }
}

/// A drag handle: three short lines.
fn grip_ui(ui: &mut egui::Ui, color: Color32) -> egui::Response {
    let (rect, resp) = ui.allocate_exact_size(vec2(14.0, 20.0), Sense::click_and_drag());
    let resp = resp.on_hover_cursor(egui::CursorIcon::Grab);
    let stroke = Stroke::new(
        2.0,
        if resp.hovered() {
            Color32::WHITE
        } else {
            color
        },
    );
    for k in 0..3 {
        let y = rect.center().y + (k as f32 - 1.0) * 5.0;
        ui.painter().line_segment(
            [pos2(rect.left() + 1.0, y), pos2(rect.right() - 1.0, y)],
            stroke,
        );
    }
    resp
}

/// Pan as "L40", "C", "R25".
fn pan_text(p: f64) -> String {
    let v = (p * 100.0).round() as i64;
    match v {
        0 => "C".into(),
        v if v < 0 => format!("L{}", -v),
        v => format!("R{v}"),
    }
}

fn parse_pan(s: &str) -> Option<f64> {
    let s = s.trim().to_ascii_uppercase();
    if s == "C" {
        return Some(0.0);
    }
    let (sign, num) = match s.split_at_checked(1)? {
        ("L", n) => (-1.0, n),
        ("R", n) => (1.0, n),
        _ => (1.0, s.as_str()),
    };
    num.trim().parse::<f64>().ok().map(|v| sign * v / 100.0)
}

/// Where a drop lands: a lane (or none = unassigned, or a new stem) and an index in it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Stem(StemId, usize),
    Unassigned,
    NewStem,
}

impl StemdeckApp {
    pub(crate) fn lanes_ui(&mut self, ui: &mut egui::Ui) {
        let (len, rate) = match &self.doc {
            Some(d) => (d.len(), d.session.sample_rate),
            None => return,
        };
        let pos = self.engine.as_ref().map_or(0, |e| e.feedback().position());
        let avail = ui.available_width();
        let tl = self.timeline(
            ui.min_rect().left() + LANE_HEADER_WIDTH + 8.0,
            (avail - LANE_HEADER_WIDTH - 16.0).max(50.0),
            len,
            rate,
        );
        self.timeline_input(ui, ui.max_rect(), tl, rate);
        // Dragging a track passes over labels: they must not start a text selection.
        ui.style_mut().interaction.selectable_labels = false;
        self.lane_rects.clear();
        self.ruler_ui(ui, tl, rate, pos);
        let mut drop: Option<(Target, TrackDrag)> = None;
        let mut lane_drop: Option<(StemId, usize)> = None;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let stem_ids: Vec<StemId> = self
                    .doc
                    .as_ref()
                    .map(|d| d.session.stems.iter().map(|s| s.id).collect())
                    .unwrap_or_default();
                let heard = self
                    .doc
                    .as_ref()
                    .map(|d| d.session.mix_plan(MixMode::Audition))
                    .unwrap_or_default();
                for (i, id) in stem_ids.iter().enumerate() {
                    if let Some((t, d, l)) = self.lane_ui(ui, tl, *id, i, pos, &heard) {
                        if let Some(d) = d {
                            drop = Some((t, d));
                        }
                        if let Some(l) = l {
                            lane_drop = Some((l, i));
                        }
                    }
                }
                if let Some(d) = self.unassigned_ui(ui, tl, pos) {
                    drop = Some((Target::Unassigned, d));
                }
                if let Some(d) = self.new_stem_zone_ui(ui) {
                    drop = Some((Target::NewStem, d));
                }
            });
        if let Some((target, tracks)) = drop {
            self.apply_drop(target, &tracks.0);
        }
        if let Some((stem, to)) = lane_drop
            && let Some(doc) = self.doc.as_mut()
        {
            doc.edit(|s| {
                if let Some(from) = s.stems.iter().position(|x| x.id == stem) {
                    let moved = s.stems.remove(from);
                    let to = to.min(s.stems.len());
                    s.stems.insert(to, moved);
                }
            });
        }
        // Show what is being dragged next to the pointer.
        if let Some(p) = egui::DragAndDrop::payload::<TrackDrag>(ui.ctx())
            && let Some(at) = ui.ctx().pointer_interact_pos()
        {
            let n = p.0.len();
            let text = if n == 1 {
                "1 track".to_owned()
            } else {
                format!("{n} tracks")
            };
            let painter = ui.ctx().layer_painter(egui::LayerId::new(
                egui::Order::Tooltip,
                egui::Id::unique("drag-label"),
            ));
            let galley =
                painter.layout_no_wrap(text, egui::FontId::proportional(14.0), Color32::WHITE);
            let rect = Rect::from_min_size(at + vec2(14.0, 6.0), galley.size() + vec2(12.0, 6.0));
            painter.rect_filled(rect, 4.0, Color32::from_rgb(46, 111, 216));
            painter.galley(rect.min + vec2(6.0, 3.0), galley, Color32::WHITE);
        }
    }

    fn apply_drop(&mut self, target: Target, tracks: &[TrackId]) {
        let Some(doc) = self.doc.as_mut() else { return };
        doc.edit(|s| match target {
            Target::Stem(id, index) => s.move_tracks(tracks, Some(id), Some(index)),
            Target::Unassigned => s.move_tracks(tracks, None, None),
            Target::NewStem => {
                let name = format!("Stem {}", s.stems.len() + 1);
                let id = s.add_stem(name);
                s.move_tracks(tracks, Some(id), None);
            }
        });
        self.selection.tracks = tracks.iter().copied().collect();
    }

    /// One stem lane. Returns the drop that landed on it, if any.
    fn lane_ui(
        &mut self,
        ui: &mut egui::Ui,
        tl: Timeline,
        id: StemId,
        index: usize,
        pos: u64,
        heard: &stemdeck_session::routing::MixPlan,
    ) -> Option<(Target, Option<TrackDrag>, Option<StemId>)> {
        let level = self.meter_display.get(index).copied().unwrap_or(0.0);
        let doc = self.doc.as_mut()?;
        let stem_color = theme::parse_color(&doc.session.stem(id)?.color);
        let selected_stem = self.selection.stem == Some(id);
        let frame = egui::Frame::new()
            .fill(if selected_stem {
                ui.visuals().faint_bg_color.gamma_multiply(2.0)
            } else {
                ui.visuals().faint_bg_color
            })
            .stroke(Stroke::new(1.0, stem_color.gamma_multiply(0.6)))
            .corner_radius(CornerRadius::same(4))
            .inner_margin(4.0);
        let mut row_rects: Vec<(TrackId, Rect)> = Vec::new();
        let mut clicked_track: Option<(TrackId, egui::Modifiers)> = None;
        let mut header_clicked = false;
        let fx_open = self.show_effects.then_some(self.fx_owner);
        let mut fx_clicked: Option<ChainOwner> = None;
        let lane = frame.show(ui, |ui| {
            ui.set_min_width(ui.available_width());
            // Header.
            ui.horizontal(|ui| {
                ui.set_height(LANE_HEADER_HEIGHT);
                let Some(stem) = doc.session.stem_mut(id) else {
                    return;
                };
                let handle =
                    grip_ui(ui, stem_color).on_hover_text("Drag to reorder stems; click to select");
                let label = format!("Move {}", stem.name);
                handle.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
                if handle.drag_started() {
                    handle.dnd_set_drag_payload(LaneDrag(id));
                }
                if handle.clicked() {
                    header_clicked = true;
                }
                let mut color = theme::parse_color(&stem.color);
                if ui
                    .color_edit_button_srgba(&mut color)
                    .on_hover_text("Lane colour")
                    .changed()
                {
                    stem.color = theme::to_hex(color);
                }
                let stem_name = stem.name.clone();
                ui.add(
                    egui::TextEdit::singleline(&mut stem.name)
                        .desired_width(110.0)
                        .font(egui::TextStyle::Heading),
                )
                .on_hover_text("Stem name (used in file names)");
                toggle_ui(
                    ui,
                    &mut stem.mute,
                    "M",
                    &format!("Mute {stem_name}"),
                    theme::MUTE_COLOR,
                    "Mute this stem (M when selected)",
                );
                toggle_ui(
                    ui,
                    &mut stem.solo,
                    "S",
                    &format!("Solo {stem_name}"),
                    theme::SOLO_COLOR,
                    "Solo this stem (S when selected)",
                );
                ui.add(
                    egui::Slider::new(&mut stem.gain_db, -60.0..=12.0)
                        .suffix(" dB")
                        .fixed_decimals(1)
                        .show_value(true),
                )
                .on_hover_text(format!("{stem_name} gain"));
                let owner = ChainOwner::Stem(id);
                if fx_button_ui(ui, &stem.effects, &stem_name, fx_open == Some(owner)).clicked() {
                    fx_clicked = Some(owner);
                }
                meter_ui(ui, level, 90.0, &format!("{stem_name} peak"));
            });
            // Track rows.
            let track_ids: Vec<TrackId> = doc
                .session
                .stem(id)
                .map(|s| s.tracks.clone())
                .unwrap_or_default();
            let heard_stem = heard.stems.iter().find(|s| s.stem == id);
            for tid in track_ids {
                let audible = heard_stem.is_some_and(|s| {
                    s.gain > 0.0
                        && s.tracks.iter().any(|t| {
                            doc.session.tracks.get(t.track).is_some_and(|x| x.id == tid)
                                && t.gain > 0.0
                        })
                });
                let level = doc
                    .session
                    .track_index(tid)
                    .and_then(|i| self.track_meter_display.get(i))
                    .copied()
                    .unwrap_or(0.0);
                if let Some((rect, click)) = track_row_ui(
                    ui,
                    doc,
                    &self.waveforms,
                    &self.check,
                    &self.selection,
                    &mut self.clip_drag,
                    tl,
                    tid,
                    stem_color,
                    audible,
                    pos,
                    level,
                    fx_open,
                    &mut fx_clicked,
                ) {
                    row_rects.push((tid, rect));
                    if let Some(m) = click {
                        clicked_track = Some((tid, m));
                    }
                }
            }
            if row_rects.is_empty() {
                ui.weak("Drop tracks here");
            }
        });
        if let Some(owner) = fx_clicked {
            self.toggle_chain(owner);
        }
        if header_clicked {
            self.selection.stem = Some(id);
            self.selection.tracks.clear();
        }
        if let Some((tid, m)) = clicked_track {
            self.select_track(tid, m);
        }
        self.lane_rects.push((id, lane.response.rect));
        let resp = ui.interact(
            lane.response.rect,
            egui::Id::unique(("lane", id)),
            Sense::hover(),
        );
        // Insertion point among the rows for a hovering track drag.
        let pointer = ui.ctx().pointer_interact_pos();
        let index_at = |p: Pos2| {
            row_rects
                .iter()
                .position(|(_, r)| p.y < r.center().y)
                .unwrap_or(row_rects.len())
        };
        if resp.dnd_hover_payload::<TrackDrag>().is_some()
            && let Some(p) = pointer
        {
            let i = index_at(p);
            let y = row_rects
                .get(i)
                .map_or(lane.response.rect.bottom() - 3.0, |(_, r)| r.top());
            ui.painter().hline(
                lane.response.rect.x_range(),
                y,
                Stroke::new(2.0, stem_color),
            );
            ui.painter().rect_stroke(
                lane.response.rect,
                4.0,
                Stroke::new(2.0, stem_color),
                egui::StrokeKind::Inside,
            );
        }
        if resp.dnd_hover_payload::<LaneDrag>().is_some() {
            ui.painter().hline(
                lane.response.rect.x_range(),
                lane.response.rect.top(),
                Stroke::new(3.0, Color32::WHITE),
            );
        }
        let dropped = release::<TrackDrag>(&resp).map(|d| (*d).clone());
        let lane_dropped = release::<LaneDrag>(&resp).map(|d| d.0);
        ui.add_space(4.0);
        let index = pointer.map_or(row_rects.len(), index_at);
        (dropped.is_some() || lane_dropped.is_some()).then_some((
            Target::Stem(id, index),
            dropped,
            lane_dropped,
        ))
    }

    fn select_track(&mut self, id: TrackId, m: egui::Modifiers) {
        if m.command || m.shift {
            if !self.selection.tracks.remove(&id) {
                self.selection.tracks.insert(id);
            }
        } else {
            self.selection.tracks.clear();
            self.selection.tracks.insert(id);
        }
        self.selection.stem = None;
    }

    fn unassigned_ui(&mut self, ui: &mut egui::Ui, tl: Timeline, pos: u64) -> Option<TrackDrag> {
        let doc = self.doc.as_mut()?;
        let ids: Vec<TrackId> = doc.session.unassigned_tracks().map(|t| t.id).collect();
        let mut clicked = None;
        let fx_open = self.show_effects.then_some(self.fx_owner);
        let mut fx_clicked: Option<ChainOwner> = None;
        let frame = egui::Frame::new()
            .stroke(Stroke::new(1.0, Color32::from_gray(80)))
            .corner_radius(CornerRadius::same(4))
            .inner_margin(4.0);
        let lane = frame.show(ui, |ui| {
            ui.set_min_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.set_height(LANE_HEADER_HEIGHT);
                ui.heading("Unassigned");
                ui.weak("— in no stem: left out of the stems and the master");
            });
            for tid in ids {
                if let Some((_, Some(m))) = track_row_ui(
                    ui,
                    doc,
                    &self.waveforms,
                    &self.check,
                    &self.selection,
                    &mut self.clip_drag,
                    tl,
                    tid,
                    theme::WAVE_UNASSIGNED,
                    false,
                    pos,
                    0.0,
                    fx_open,
                    &mut fx_clicked,
                ) {
                    clicked = Some((tid, m));
                }
            }
        });
        if let Some(owner) = fx_clicked {
            self.toggle_chain(owner);
        }
        if let Some((tid, m)) = clicked {
            self.select_track(tid, m);
        }
        let resp = ui.interact(
            lane.response.rect,
            egui::Id::unique("lane-unassigned"),
            Sense::hover(),
        );
        if resp.dnd_hover_payload::<TrackDrag>().is_some() {
            ui.painter().rect_stroke(
                lane.response.rect,
                4.0,
                Stroke::new(2.0, Color32::WHITE),
                egui::StrokeKind::Inside,
            );
        }
        ui.add_space(4.0);
        release::<TrackDrag>(&resp).map(|d| (*d).clone())
    }

    fn new_stem_zone_ui(&mut self, ui: &mut egui::Ui) -> Option<TrackDrag> {
        let frame = egui::Frame::new()
            .stroke(Stroke::new(1.0, Color32::from_gray(100)))
            .corner_radius(CornerRadius::same(4))
            .inner_margin(12.0);
        let (inner, dropped) = ui.dnd_drop_zone::<TrackDrag, _>(frame, |ui| {
            ui.set_min_width(ui.available_width());
            ui.vertical_centered(|ui| ui.weak("+ New stem — drop tracks here"));
        });
        inner
            .response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Group, true, "New stem"));
        dropped.map(|d| (*d).clone())
    }
}

/// One track row: name (drag it to regroup), mute, solo, gain, pan, its level meter and
/// the waveform. Returns its rect and, when the name was clicked, the modifiers held.
#[allow(clippy::too_many_arguments)]
fn track_row_ui(
    ui: &mut egui::Ui,
    doc: &mut crate::document::Document,
    waveforms: &crate::waveforms::Waveforms,
    check: &crate::state::CheckState,
    selection: &crate::app::Selection,
    drag: &mut Option<ClipDrag>,
    tl: Timeline,
    id: TrackId,
    color: Color32,
    audible: bool,
    pos: u64,
    level: f32,
    fx_open: Option<ChainOwner>,
    fx_clicked: &mut Option<ChainOwner>,
) -> Option<(Rect, Option<egui::Modifiers>)> {
    let selected = selection.tracks.contains(&id);
    let drag_ids: Vec<TrackId> = if selected {
        selection.tracks.iter().copied().collect()
    } else {
        vec![id]
    };
    let (row_rect, _) =
        ui.allocate_exact_size(vec2(ui.available_width(), TRACK_ROW_HEIGHT), Sense::hover());
    if !ui.is_rect_visible(row_rect) {
        // Scrolled out of view: keep its place (and its drop target), skip its widgets.
        return Some((row_rect, None));
    }
    if selected {
        ui.painter().rect_filled(
            row_rect,
            3.0,
            ui.visuals().selection.bg_fill.gamma_multiply(0.5),
        );
    }
    let mut clicked = None;
    let header = Rect::from_min_size(row_rect.min, vec2(LANE_HEADER_WIDTH, row_rect.height()));
    // The track's meter: a thin vertical bar at the header's right edge.
    let meter = Rect::from_min_max(
        pos2(header.right() - 10.0, header.top() + 4.0),
        pos2(header.right() - 4.0, header.bottom() - 4.0),
    );
    let mut controls = header.shrink2(vec2(4.0, 2.0));
    controls.set_right(meter.left() - 4.0);
    let mut child = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(controls)
            .layout(egui::Layout::top_down(egui::Align::Min)),
    );
    let rate = doc.session.sample_rate;
    let track = doc.session.track_mut(id)?;
    let name = track.name.clone();
    vertical_meter_ui(
        ui,
        egui::Id::unique(("track-meter", id)),
        meter,
        level,
        &format!("{name} level"),
    );
    // The name is the drag handle and the selector.
    let name_resp = child
        .add(
            egui::Label::new(egui::RichText::new(&name).strong())
                .truncate()
                .sense(Sense::click_and_drag()),
        )
        .on_hover_text(format!(
            "{name}\nClick to select (Ctrl/Shift to add); drag onto another lane to regroup"
        ));
    if name_resp.drag_started() {
        name_resp.dnd_set_drag_payload(TrackDrag(drag_ids));
    }
    if name_resp.clicked() {
        clicked = Some(child.input(|i| i.modifiers));
    }
    child.horizontal(|ui| {
        toggle_ui(
            ui,
            &mut track.mute,
            "M",
            &format!("Mute {name}"),
            theme::MUTE_COLOR,
            "Mute this track (M when selected)",
        );
        toggle_ui(
            ui,
            &mut track.solo,
            "S",
            &format!("Solo {name}"),
            theme::SOLO_COLOR,
            "Solo this track (S when selected)",
        );
        ui.add(
            egui::DragValue::new(&mut track.gain_db)
                .range(-60.0..=12.0)
                .speed(0.1)
                .suffix(" dB")
                .fixed_decimals(1),
        )
        .on_hover_text(format!("{name} gain (drag or type)"));
        let mut pan = f64::from(track.pan);
        let r = ui
            .add(
                egui::DragValue::new(&mut pan)
                    .range(-1.0..=1.0)
                    .speed(0.01)
                    .custom_formatter(|v, _| pan_text(v))
                    .custom_parser(parse_pan),
            )
            .on_hover_text(format!("{name} pan (L100 … C … R100)"));
        if r.changed() {
            track.pan = pan as f32;
        }
        let owner = ChainOwner::Track(id);
        if fx_button_ui(ui, &track.effects, &name, fx_open == Some(owner)).clicked() {
            *fx_clicked = Some(owner);
        }
    });
    // Waveform.
    let wave = Rect::from_min_max(
        pos2(tl.left, row_rect.top() + 2.0),
        pos2(tl.left + tl.width, row_rect.bottom() - 2.0),
    );
    let painter = ui.painter_at(wave);
    painter.rect_filled(wave, 2.0, ui.visuals().extreme_bg_color);
    let color = if audible {
        color
    } else {
        color.gamma_multiply(0.35)
    };
    clips_ui(
        ui,
        track,
        wave,
        color,
        ClipsCtx {
            waveforms,
            tl,
            rate,
            pos,
            drag,
        },
    );
    crate::check_ui::waveform_marks_ui(
        &painter,
        wave,
        (tl.start, tl.span),
        rate,
        &track.path,
        check,
    );
    let x = tl.x(pos);
    painter.line_segment(
        [pos2(x, wave.top()), pos2(x, wave.bottom())],
        Stroke::new(1.0, theme::PLAYHEAD_COLOR),
    );
    Some((row_rect, clicked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pan_text_round_trips() {
        assert_eq!(pan_text(0.0), "C");
        assert_eq!(pan_text(-0.4), "L40");
        assert_eq!(pan_text(0.25), "R25");
        assert_eq!(parse_pan("L40"), Some(-0.4));
        assert_eq!(parse_pan("r25"), Some(0.25));
        assert_eq!(parse_pan("c"), Some(0.0));
        assert_eq!(parse_pan("-50"), Some(-0.5));
    }
}
