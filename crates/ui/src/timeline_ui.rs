//! The timeline: the ruler (click to move the playhead, drag to set the loop), the zoom
//! (Ctrl+wheel, the − / + / Fit control, View ▸ Zoom In, Zoom Out and Zoom to Fit),
//! horizontal scrolling (the scroll bar, Shift+wheel or a sideways swipe), and each
//! track's clips: drawn where they play, dragged in time, their position typed
//! (right-click). A drag is one undo step; the engine hears it while it happens.

use egui::{Color32, Rect, Sense, Stroke, pos2, vec2};
use stemdeck_session::units::{format_minutes, parse_time};
use stemdeck_session::{Clip, Track};

use crate::app::StemdeckApp;
use crate::theme;
use crate::timeline::{
    ClipDrag, SNAP_POINTS, Timeline, TimelineView, ZOOM_STEP, fit_span, min_span,
};
use crate::waveforms::Waveforms;

const STEPS: [f64; 16] = [
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

impl StemdeckApp {
    /// The mapping for this frame's timeline area (held still while a clip is dragged).
    pub(crate) fn timeline(&mut self, left: f32, width: f32, len: u64, rate: u32) -> Timeline {
        let pos = self.engine.as_ref().map_or(0, |e| e.feedback().position());
        let playing = self
            .engine
            .as_ref()
            .is_some_and(|e| e.feedback().is_playing());
        let mark = (!playing).then_some(pos);
        if let Some(d) = &self.clip_drag {
            return Timeline {
                left,
                width,
                start: d.view.0,
                span: d.view.1,
                len,
                mark,
            };
        }
        let mut tl = self.view.timeline(left, width, len, rate);
        // Playing past the view turns the page, as a DAW follows the playhead.
        if playing && self.view.span.is_some() && (pos < tl.start || pos >= tl.end()) {
            self.view.start = pos.saturating_sub(tl.span / 20);
            tl = self.view.timeline(left, width, len, rate);
        }
        Timeline { mark, ..tl }
    }

    /// Ctrl+wheel zooms around the pointer; a sideways scroll (Shift+wheel) scrolls.
    pub(crate) fn timeline_input(&mut self, ui: &egui::Ui, area: Rect, tl: Timeline, rate: u32) {
        let Some(p) = ui.ctx().pointer_hover_pos().filter(|p| area.contains(*p)) else {
            return;
        };
        let (zoom, scroll) = ui.input(|i| (i.zoom_delta(), i.smooth_scroll_delta.x));
        if zoom != 1.0 {
            let anchor = tl.frame_at(p.x.max(tl.left)).max(0.0) as u64;
            self.view.zoom(f64::from(zoom), anchor, tl.len, rate);
        }
        if scroll != 0.0 && self.view.span.is_some() {
            let frames = -f64::from(scroll / tl.width.max(1.0)) * tl.span as f64;
            self.view.scroll(frames as i64, tl.len, rate);
        }
    }

    /// View ▸ Zoom In / Zoom Out (around the playhead when it is in view) and Zoom to Fit.
    pub fn zoom_timeline(&mut self, steps: i32) {
        let Some(doc) = &self.doc else { return };
        let (len, rate) = (doc.len(), doc.session.sample_rate);
        if steps == 0 {
            self.view = TimelineView::default();
            return;
        }
        let pos = self.engine.as_ref().map_or(0, |e| e.feedback().position());
        let span = self.view.span_for(len, rate);
        let anchor = if pos >= self.view.start && pos < self.view.start + span {
            pos
        } else {
            self.view.start + span / 2
        };
        self.view.zoom(ZOOM_STEP.powi(steps), anchor, len, rate);
    }

    /// The ruler row: the zoom control in the header column, then the ruler.
    pub(crate) fn ruler_ui(&mut self, ui: &mut egui::Ui, tl: Timeline, rate: u32, pos: u64) {
        let (rect, resp) =
            ui.allocate_exact_size(vec2(ui.available_width(), 24.0), Sense::click_and_drag());
        let controls = Rect::from_min_max(rect.min, pos2(tl.left - 8.0, rect.bottom()));
        let mut child = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(controls)
                .layout(egui::Layout::right_to_left(egui::Align::Center)),
        );
        self.zoom_control_ui(&mut child, tl, rate);
        let ruler = Rect::from_min_max(
            pos2(tl.left, rect.top()),
            pos2(tl.left + tl.width, rect.bottom()),
        );
        let painter = ui.painter_at(ruler);
        painter.rect_filled(ruler, 2.0, ui.visuals().extreme_bg_color);
        // Ticks far enough apart for their labels.
        let rate_f = f64::from(rate.max(1));
        let secs_across = tl.span as f64 / rate_f;
        let step = STEPS
            .into_iter()
            .find(|s| f64::from(tl.width) / (secs_across / s).max(1.0) > 70.0)
            .unwrap_or(1200.0);
        let mut t = (tl.start as f64 / rate_f / step).floor() * step;
        let end = tl.end() as f64 / rate_f;
        while t <= end {
            let frame = (t * rate_f).round() as u64;
            let x = tl.x(frame);
            painter.line_segment(
                [pos2(x, ruler.bottom() - 8.0), pos2(x, ruler.bottom())],
                Stroke::new(1.0, Color32::GRAY),
            );
            let label = if step < 1.0 {
                format_minutes(frame, rate)
            } else {
                let s = t.round() as u64;
                format!("{}:{:02}", s / 60, s % 60)
            };
            painter.text(
                pos2(x + 3.0, ruler.top() + 2.0),
                egui::Align2::LEFT_TOP,
                label,
                egui::FontId::monospace(10.0),
                Color32::GRAY,
            );
            t += step;
        }
        let (a, b) = self.loop_region;
        if b > a {
            let fill = if self.looping {
                theme::LOOP_COLOR
            } else {
                Color32::from_rgba_premultiplied(90, 90, 90, 40)
            };
            painter.rect_filled(
                Rect::from_min_max(pos2(tl.x(a), ruler.top()), pos2(tl.x(b), ruler.bottom())),
                0.0,
                fill,
            );
        }
        let x = tl.x(pos);
        painter.line_segment(
            [pos2(x, ruler.top()), pos2(x, ruler.bottom())],
            Stroke::new(2.0, theme::PLAYHEAD_COLOR),
        );
        let on_ruler = |p: egui::Pos2| p.x >= tl.left;
        let resp = resp.on_hover_text(
            "Click to move the playhead; drag to set the loop region; Ctrl+wheel to zoom",
        );
        if let Some(p) = resp.interact_pointer_pos().filter(|p| on_ruler(*p)) {
            let frame = tl.frame(p.x);
            if resp.drag_started() {
                self.loop_drag_from = Some(frame);
            }
            if resp.dragged()
                && let Some(from) = self.loop_drag_from
            {
                self.loop_region = (from.min(frame), from.max(frame));
            }
        }
        if resp.drag_stopped() {
            self.loop_drag_from = None;
            let (a, b) = self.loop_region;
            if b > a {
                self.looping = true;
                self.sync_loop();
                self.seek(a);
            }
        } else if resp.clicked()
            && let Some(p) = resp.interact_pointer_pos().filter(|p| on_ruler(*p))
        {
            self.seek(tl.frame(p.x));
        }
        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Slider, true, "Timeline"));
        self.scrollbar_ui(ui, tl, rate);
    }

    /// − / + / Fit, and how far in the view is.
    fn zoom_control_ui(&mut self, ui: &mut egui::Ui, tl: Timeline, rate: u32) {
        let fit = fit_span(tl.len, rate);
        let fitted = tl.span >= fit;
        if ui
            .add_enabled(!fitted, egui::Button::new("Fit").small())
            .on_hover_text("Zoom to fit the whole song (Ctrl+0)")
            .clicked()
        {
            self.zoom_timeline(0);
        }
        if ui
            .add_enabled(tl.span > min_span(rate), egui::Button::new("+").small())
            .on_hover_text("Zoom in (Ctrl+=, or Ctrl+wheel over the lanes)")
            .clicked()
        {
            self.zoom_timeline(1);
        }
        ui.label(
            egui::RichText::new(format!("{:.0}×", fit as f64 / tl.span.max(1) as f64))
                .monospace()
                .small(),
        )
        .on_hover_text("Zoom: how many times the whole song is magnified");
        if ui
            .add_enabled(!fitted, egui::Button::new("−").small())
            .on_hover_text("Zoom out (Ctrl+−)")
            .clicked()
        {
            self.zoom_timeline(-1);
        }
    }

    /// The horizontal scroll bar under the ruler: the thumb is the view.
    fn scrollbar_ui(&mut self, ui: &mut egui::Ui, tl: Timeline, rate: u32) {
        let (row, _) = ui.allocate_exact_size(vec2(ui.available_width(), 8.0), Sense::hover());
        let track = Rect::from_min_max(
            pos2(tl.left, row.top() + 1.0),
            pos2(tl.left + tl.width, row.bottom() - 1.0),
        );
        let resp = ui.interact(
            track,
            egui::Id::unique("timeline-scroll"),
            Sense::click_and_drag(),
        );
        let fit = fit_span(tl.len, rate) as f32;
        let (a, b) = (tl.start as f32 / fit, tl.end() as f32 / fit);
        let thumb = Rect::from_min_max(
            pos2(track.left() + a * track.width(), track.top()),
            pos2(
                (track.left() + b * track.width()).max(track.left() + a * track.width() + 6.0),
                track.bottom(),
            ),
        );
        let painter = ui.painter_at(row);
        painter.rect_filled(track, 3.0, ui.visuals().extreme_bg_color);
        let active = resp.hovered() || resp.dragged();
        painter.rect_filled(
            thumb,
            3.0,
            if active {
                Color32::from_gray(150)
            } else {
                Color32::from_gray(100)
            },
        );
        if self.view.span.is_none() {
            return;
        }
        if resp.dragged() {
            let frames = f64::from(resp.drag_delta().x / track.width().max(1.0)) * f64::from(fit);
            self.view.scroll(frames as i64, tl.len, rate);
        } else if resp.clicked()
            && let Some(p) = resp.interact_pointer_pos()
        {
            // Centre the view where the bar was clicked.
            let at = f64::from((p.x - track.left()) / track.width().max(1.0)) * f64::from(fit);
            self.view.start = (at - tl.span as f64 / 2.0).max(0.0) as u64;
            self.view.scroll(0, tl.len, rate);
        }
        resp.on_hover_text("Drag to scroll the timeline (or Shift+wheel)")
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ScrollBar, true, "Scroll"));
    }
}

/// What a clip row needs besides the track.
pub(crate) struct ClipsCtx<'a> {
    pub waveforms: &'a Waveforms,
    pub tl: Timeline,
    pub rate: u32,
    pub pos: u64,
    pub drag: &'a mut Option<ClipDrag>,
}

/// The clips of `track` in `wave`: each its piece of its file where it plays (a track
/// without clips: its whole file from 0), dragged in time, or its position typed in its
/// context menu.
pub(crate) fn clips_ui(
    ui: &mut egui::Ui,
    track: &mut Track,
    wave: Rect,
    color: Color32,
    cx: ClipsCtx<'_>,
) {
    let tl = cx.tl;
    let painter = ui.painter_at(wave);
    // A track without clips is one clip: the default (its whole file at 0).
    let count = track.clips.len().max(1);
    for k in 0..count {
        let clip = track.clips.get(k).cloned().unwrap_or_default();
        let path = clip.path.clone().unwrap_or_else(|| track.path.clone());
        let file_len = cx.waveforms.frames(&path);
        let len = clip.length.unwrap_or_else(|| {
            file_len.map_or(tl.len.saturating_sub(clip.position), |f| {
                f.saturating_sub(clip.offset)
            })
        });
        let (p0, p1) = (clip.position, clip.position.saturating_add(len));
        let span = Rect::from_min_max(pos2(tl.x(p0), wave.top()), pos2(tl.x(p1), wave.bottom()));
        let shown = span.intersect(wave);
        if shown.width() < 1.0 {
            continue;
        }
        let id = egui::Id::unique(("clip", track.id, k));
        let resp = ui
            .interact(shown, id, Sense::click_and_drag())
            .on_hover_cursor(egui::CursorIcon::Grab);
        let dragging = cx
            .drag
            .as_ref()
            .is_some_and(|d| d.track == track.id && d.clip == k);
        painter.rect_filled(span, 2.0, color.gamma_multiply(0.08));
        painter.rect_stroke(
            span,
            2.0,
            Stroke::new(
                if dragging || resp.hovered() { 1.5 } else { 1.0 },
                color.gamma_multiply(if dragging { 1.0 } else { 0.5 }),
            ),
            egui::StrokeKind::Inside,
        );
        // The visible part of the clip's piece of its file.
        let (v0, v1) = (p0.max(tl.start), p1.min(tl.start + tl.span));
        if v1 > v0 {
            let from = clip.offset + (v0 - p0);
            let part =
                Rect::from_min_max(pos2(tl.x(v0), wave.top()), pos2(tl.x(v1), wave.bottom()));
            if let Some(mesh) = cx
                .waveforms
                .mesh_span(&path, from, from + (v1 - v0), part, color)
            {
                painter.add(egui::Shape::mesh(mesh));
            } else if file_len.is_none() {
                painter.text(
                    part.left_center() + vec2(6.0, 0.0),
                    egui::Align2::LEFT_CENTER,
                    "…",
                    egui::FontId::proportional(12.0),
                    Color32::GRAY,
                );
            }
        }
        let at = format_minutes(clip.position, cx.rate);
        let name = format!("Clip {} of {} at {at}", k + 1, track.name);
        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
        let resp = resp.on_hover_text(format!(
            "{}: at {at}\nDrag to move it in time (it snaps to the start, and to the playhead \
             when stopped; Shift: no snapping); right-click to type its position",
            track.name
        ));
        // Grabbed where the button went down (the drag starts a few points later).
        if resp.drag_started()
            && let Some(p) = ui
                .input(|i| i.pointer.press_origin())
                .or(resp.interact_pointer_pos())
        {
            if track.clips.is_empty() {
                track.clips.push(Clip::default());
            }
            *cx.drag = Some(ClipDrag {
                track: track.id,
                clip: k,
                from: clip.position,
                grab: tl.frame_at(p.x),
                view: (tl.start, tl.span),
            });
        }
        if let Some(d) = cx.drag.filter(|d| d.track == track.id && d.clip == k) {
            if resp.dragged()
                && let Some(p) = resp.interact_pointer_pos()
            {
                let mut to = (d.from as f64 + tl.frame_at(p.x) - d.grab).max(0.0).round() as u64;
                if !ui.input(|i| i.modifiers.shift) {
                    to = snap(to, &[0, tl.mark.unwrap_or(0)], tl);
                }
                if let Some(c) = track.clips.get_mut(k) {
                    c.position = to;
                }
            }
            if resp.drag_stopped() {
                *cx.drag = None;
                tidy(track);
            }
        }
        resp.context_menu(|ui| position_menu_ui(ui, track, k, cx.rate, cx.pos));
    }
}

/// `to`, or the nearest of `marks` within [`SNAP_POINTS`] of it.
fn snap(to: u64, marks: &[u64], tl: Timeline) -> u64 {
    let per_point = tl.span as f64 / f64::from(tl.width.max(1.0));
    let reach = (f64::from(SNAP_POINTS) * per_point) as u64;
    marks
        .iter()
        .copied()
        .filter(|m| m.abs_diff(to) <= reach)
        .min_by_key(|m| m.abs_diff(to))
        .unwrap_or(to)
}

/// A track that is its whole file at 0 again keeps no clip (as it was before clips:
/// the same session file, the same bytes).
fn tidy(track: &mut Track) {
    if track.whole_file() {
        track.clips.clear();
    }
}

/// The clip's context menu: its position typed as time or frames, or sent to the start
/// or the playhead.
fn position_menu_ui(ui: &mut egui::Ui, track: &mut Track, k: usize, rate: u32, pos: u64) {
    if track.clips.is_empty() {
        track.clips.push(Clip::default());
    }
    let Some(clip) = track.clips.get_mut(k) else {
        return;
    };
    let r = f64::from(rate.max(1));
    egui::Grid::new("clip-position")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Position");
            let mut secs = clip.position as f64 / r;
            if ui
                .add(
                    egui::DragValue::new(&mut secs)
                        .range(0.0..=86_400.0)
                        .speed(0.001)
                        .custom_formatter(|v, _| format_minutes((v * r).round() as u64, rate))
                        .custom_parser(parse_time),
                )
                .on_hover_text("Clip position (m:ss.mmm, or seconds)")
                .changed()
            {
                clip.position = (secs * r).round() as u64;
            }
            ui.end_row();
            ui.label("Frames");
            ui.add(egui::DragValue::new(&mut clip.position).range(0..=u64::MAX / 2))
                .on_hover_text("Clip position in frames");
            ui.end_row();
        });
    ui.horizontal(|ui| {
        if ui.button("Move to Start").clicked() {
            clip.position = 0;
            ui.close();
        }
        if ui.button("Move to Playhead").clicked() {
            clip.position = pos;
            ui.close();
        }
    });
    tidy(track);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_keeps_the_anchor_in_place_and_stays_in_the_song() {
        let (len, rate) = (480_000, 48_000);
        let mut v = TimelineView::default();
        let fit = fit_span(len, rate);
        v.zoom(2.0, 240_000, len, rate);
        let tl = v.timeline(0.0, 1000.0, len, rate);
        assert_eq!(tl.span, fit / 2);
        // The anchor stays under the same point (half way across).
        assert!((tl.x(240_000) - 1000.0 * 240_000.0 / fit as f32).abs() < 1.0);
        v.zoom(1e9, 0, len, rate);
        assert_eq!(v.span, Some(min_span(rate)));
        v.scroll(i64::MAX / 4, len, rate);
        let tl = v.timeline(0.0, 1000.0, len, rate);
        assert_eq!(tl.start + tl.span, fit);
        v.zoom(1e-9, 0, len, rate);
        assert_eq!(v, TimelineView::default());
    }

    #[test]
    fn a_clip_snaps_to_the_start_and_the_playhead_only_when_close() {
        let tl = TimelineView::default().timeline(0.0, 1000.0, 100_000, 48_000);
        // 105 frames per point here: the reach is about 840 frames.
        assert_eq!(snap(500, &[0, 50_000], tl), 0);
        assert_eq!(snap(49_500, &[0, 50_000], tl), 50_000);
        assert_eq!(snap(5_000, &[0, 50_000], tl), 5_000);
    }
}
