//! The timeline's view and its frame-to-point mapping, and a clip drag in progress: plain
//! data and arithmetic (drawn by `timeline_ui`).

use stemdeck_session::TrackId;

/// The visible part of the timeline.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimelineView {
    /// The first frame shown.
    pub start: u64,
    /// Frames across the view; `None`: the whole song (zoom to fit).
    pub span: Option<u64>,
}

/// Each zoom step doubles or halves the frames shown.
pub(crate) const ZOOM_STEP: f64 = 2.0;
/// Snapping pulls a dragged clip this close (points) onto the start or the playhead.
pub(crate) const SNAP_POINTS: f32 = 8.0;

/// Frames across the view when zoomed to fit: the song with a little room after it (to
/// drag a clip later).
pub(crate) fn fit_span(len: u64, rate: u32) -> u64 {
    (len + len / 20).max(u64::from(rate.max(1)))
}

/// The narrowest view: 100 ms across.
pub(crate) fn min_span(rate: u32) -> u64 {
    u64::from(rate.max(10) / 10)
}

impl TimelineView {
    pub(crate) fn span_for(&self, len: u64, rate: u32) -> u64 {
        let fit = fit_span(len, rate);
        self.span.unwrap_or(fit).clamp(min_span(rate).min(fit), fit)
    }

    /// The view's mapping for a timeline area `left..left + width`.
    pub(crate) fn timeline(&self, left: f32, width: f32, len: u64, rate: u32) -> Timeline {
        let span = self.span_for(len, rate);
        let start = self.start.min(fit_span(len, rate).saturating_sub(span));
        Timeline {
            left,
            width,
            start,
            span,
            len,
            mark: None,
        }
    }

    /// Zoom by `factor` (> 1: in) keeping frame `anchor` under the same point.
    pub(crate) fn zoom(&mut self, factor: f64, anchor: u64, len: u64, rate: u32) {
        let old = self.span_for(len, rate);
        let fit = fit_span(len, rate);
        let new = ((old as f64 / factor).round() as u64).clamp(min_span(rate).min(fit), fit);
        let frac = (anchor.saturating_sub(self.start) as f64 / old as f64).clamp(0.0, 1.0);
        self.start = (anchor as f64 - frac * new as f64).max(0.0) as u64;
        self.start = self.start.min(fit - new);
        self.span = (new < fit).then_some(new);
        if self.span.is_none() {
            self.start = 0;
        }
    }

    /// Scroll by `frames` (negative: earlier).
    pub(crate) fn scroll(&mut self, frames: i64, len: u64, rate: u32) {
        let span = self.span_for(len, rate);
        let max = fit_span(len, rate).saturating_sub(span);
        self.start = self.start.saturating_add_signed(frames).min(max);
    }
}

/// Maps frames to x positions in the timeline area.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeline {
    pub left: f32,
    pub width: f32,
    pub start: u64,
    pub span: u64,
    pub len: u64,
    /// Where a dragged clip snaps besides the start: the playhead, while stopped (a
    /// moving playhead would pull clips along).
    pub mark: Option<u64>,
}

impl Timeline {
    pub fn x(&self, frame: u64) -> f32 {
        self.left + self.width * ((frame as f64 - self.start as f64) / self.span as f64) as f32
    }

    /// The frame at `x`, not limited to the song.
    pub(crate) fn frame_at(&self, x: f32) -> f64 {
        self.start as f64 + f64::from((x - self.left) / self.width.max(1.0)) * self.span as f64
    }

    /// The frame at `x`, within the song.
    pub fn frame(&self, x: f32) -> u64 {
        self.frame_at(x).clamp(0.0, self.len as f64) as u64
    }

    pub(crate) fn end(&self) -> u64 {
        self.start + self.span
    }
}

/// A clip being dragged: its track and index, where it was, and the frame grabbed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ClipDrag {
    pub(crate) track: TrackId,
    pub(crate) clip: usize,
    pub(crate) from: u64,
    pub(crate) grab: f64,
    /// The view when the drag began: it holds still while the song's length follows
    /// the clip.
    pub(crate) view: (u64, u64),
}
