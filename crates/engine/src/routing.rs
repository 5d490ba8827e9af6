//! A routing as the audio thread uses it: the target plan plus the scratch it needs to
//! ramp towards it, all allocated off the audio thread and swapped in whole; with it,
//! when the effects changed shape, their new processing.

use stemdeck_audio::kernel::StereoBuf;
use stemdeck_session::routing::MixPlan;

use crate::fx::Fx;

pub struct Routing {
    /// Gains to reach.
    pub(crate) target: MixPlan,
    /// Gains when the ramp started (same shape as `target`).
    pub(crate) from: MixPlan,
    /// Interpolated plans for the current chunk's start and end (same shape).
    pub(crate) a: MixPlan,
    pub(crate) b: MixPlan,
    /// One buffer per stem.
    pub(crate) stems: Vec<StereoBuf>,
    /// New effects processing to take over with this routing (None: the running one
    /// carries on). Sent together so the stems and their chains never disagree.
    pub(crate) fx: Option<Box<Fx>>,
}

impl Routing {
    /// Build off the audio thread.
    pub fn new(plan: MixPlan, chunk: usize) -> Box<Routing> {
        let stems = vec![StereoBuf::new(chunk); plan.stems.len()];
        Box::new(Routing {
            from: plan.clone(),
            a: plan.clone(),
            b: plan.clone(),
            target: plan,
            stems,
            fx: None,
        })
    }

    /// A routing that brings new effects processing along.
    pub(crate) fn with_fx(plan: MixPlan, chunk: usize, fx: Box<Fx>) -> Box<Routing> {
        let mut r = Routing::new(plan, chunk);
        r.fx = Some(fx);
        r
    }

    pub fn plan(&self) -> &MixPlan {
        &self.target
    }

    /// Write into `out` (same shape as `target`) the gains `t` (0..=1) of the way from
    /// `from` to `target`.
    pub(crate) fn lerp_into(from: &MixPlan, target: &MixPlan, t: f32, out: &mut MixPlan) {
        for ((o, f), g) in out.stems.iter_mut().zip(&from.stems).zip(&target.stems) {
            o.gain = f.gain + (g.gain - f.gain) * t;
            for ((ot, ft), gt) in o.tracks.iter_mut().zip(&f.tracks).zip(&g.tracks) {
                ot.gain = ft.gain + (gt.gain - ft.gain) * t;
                ot.pan = ft.pan + (gt.pan - ft.pan) * t;
            }
        }
    }

    /// Set `self.from` to what `current` is playing now, matching stems by id and
    /// tracks by index, so the new routing ramps from the sound being heard. Tracks and
    /// stems that were not playing start from silence.
    pub(crate) fn start_from(&mut self, current: &MixPlan) {
        for stem in self.from.stems.iter_mut() {
            let old = current.stems.iter().find(|s| s.stem == stem.stem);
            stem.gain = old.map_or(stem.gain, |o| o.gain);
            for t in stem.tracks.iter_mut() {
                let prev = current
                    .stems
                    .iter()
                    .flat_map(|s| s.tracks.iter())
                    .find(|o| o.track == t.track);
                match prev {
                    Some(p) => {
                        t.gain = p.gain;
                        t.pan = p.pan;
                    }
                    None => t.gain = 0.0,
                }
            }
        }
    }
}
