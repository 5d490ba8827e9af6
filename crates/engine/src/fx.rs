//! The effects the audio thread runs: the track and stem chains inside the mix kernel
//! (`MixInserts`) and the master bus after it (`MasterBus`), the same processing as the
//! wet export.
//!
//! How an edit travels (docs/architecture.md, "Live playback engine"):
//! - only parameters, bypass or the master fader changed: [`EffectParams`] carries the
//!   new settings of the chains that changed; the audio thread hands them to the running
//!   chains (`Chain::update`, `MasterBus::update`), which glide, and the parameters go
//!   back over the garbage ring to be freed on the control thread;
//! - the shape changed (an effect added, removed or moved, another EQ band shape, another
//!   limiter look-ahead, stems added, removed or reordered): a new [`Fx`] is built here,
//!   off the audio thread, and swapped in with the next routing. On the audio thread it
//!   first takes over every running chain that can take its new settings in place, so an
//!   untouched track or stem keeps its state (a reverb tail is not cut).

use stemdeck_effects::{Chain, EffectError, MasterBus, MixInserts};
use stemdeck_session::effects::{Effect, EffectKind};
use stemdeck_session::routing::MixPlan;
use stemdeck_session::{Master, Session, StemId};

use crate::CHUNK;

/// The effect settings of one mix, as sent to the audio thread: per track (by session
/// index), per stem (in plan order) and the master. Only settings without a problem are
/// ever in here (see [`FxSettings::from_session`]): the audio thread must never meet
/// one, since checking it allocates the message.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FxSettings {
    pub tracks: Vec<Vec<Effect>>,
    pub stems: Vec<(StemId, Vec<Effect>)>,
    pub master: Master,
}

impl FxSettings {
    /// What `session` asks for, in the order of `plan`'s stems. A chain with a parameter
    /// out of range keeps its settings from `previous` (what is playing), and the problem
    /// is returned, naming the track, stem or master.
    pub fn from_session(
        session: &Session,
        plan: &MixPlan,
        previous: Option<&FxSettings>,
    ) -> (FxSettings, Option<String>) {
        let mut problem = None;
        let mut checked =
            |effects: &[Effect], owner: &dyn Fn() -> String, old: Option<&Vec<Effect>>| {
                match effects.iter().enumerate().find_map(|(i, e)| {
                    e.problem()
                        .map(|p| format!("{}, effect {} ({}): {p}", owner(), i + 1, e.kind.label()))
                }) {
                    None => effects.to_vec(),
                    Some(p) => {
                        problem.get_or_insert(p);
                        old.cloned().unwrap_or_default()
                    }
                }
            };
        let tracks = session
            .tracks
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let old = previous.and_then(|p| p.tracks.get(i));
                checked(&t.effects, &|| format!("track \"{}\"", t.name), old)
            })
            .collect();
        let stems = plan
            .stems
            .iter()
            .map(|sg| {
                let effects = match session.stem(sg.stem) {
                    Some(s) => {
                        let old = previous
                            .and_then(|p| p.stems.iter().find(|(id, _)| *id == sg.stem))
                            .map(|(_, e)| e);
                        checked(&s.effects, &|| format!("stem \"{}\"", s.name), old)
                    }
                    None => Vec::new(),
                };
                (sg.stem, effects)
            })
            .collect();
        let old_master = previous.map(|p| &p.master.effects);
        let master = Master {
            gain_db: if session.master.gain_db.is_finite() {
                session.master.gain_db
            } else {
                previous.map_or(0.0, |p| p.master.gain_db)
            },
            effects: checked(&session.master.effects, &|| "master".to_owned(), old_master),
        };
        (
            FxSettings {
                tracks,
                stems,
                master,
            },
            problem,
        )
    }

    /// Whether `session` (with `plan`) asks for exactly these settings, compared in place.
    pub fn matches(&self, session: &Session, plan: &MixPlan) -> bool {
        session.tracks.len() == self.tracks.len()
            && session
                .tracks
                .iter()
                .zip(&self.tracks)
                .all(|(t, e)| t.effects == *e)
            && plan.stems.len() == self.stems.len()
            && plan.stems.iter().zip(&self.stems).all(|(sg, (id, e))| {
                sg.stem == *id
                    && session
                        .stem(sg.stem)
                        .map_or(e.is_empty(), |st| st.effects == *e)
            })
            && session.master == self.master
    }

    /// Whether the running chains built for `self` can take `new` in place: the same
    /// stems in the same order and every chain of the same shape. Conservative (a
    /// look-ahead that rounds to the same frames still counts as a change); should it
    /// ever say yes wrongly, the audio thread refuses and the engine rebuilds.
    pub fn same_shape(&self, new: &FxSettings) -> bool {
        self.tracks.len() == new.tracks.len()
            && self
                .tracks
                .iter()
                .zip(&new.tracks)
                .all(|(a, b)| same_chain_shape(a, b))
            && self.stems.len() == new.stems.len()
            && self
                .stems
                .iter()
                .zip(&new.stems)
                .all(|((ia, a), (ib, b))| ia == ib && same_chain_shape(a, b))
            && same_chain_shape(&self.master.effects, &new.master.effects)
    }

    /// The settings of the chains that differ between `self` (running) and `new`, to be
    /// taken in place (only when [`Self::same_shape`]).
    pub fn changes(&self, new: &FxSettings, generation: u64) -> EffectParams {
        let tracks = new
            .tracks
            .iter()
            .enumerate()
            .filter(|(i, e)| self.tracks.get(*i) != Some(*e))
            .map(|(i, e)| (i, e.clone()))
            .collect();
        let stems = new
            .stems
            .iter()
            .enumerate()
            .filter(|(i, s)| self.stems.get(*i) != Some(*s))
            .map(|(i, (_, e))| (i, e.clone()))
            .collect();
        EffectParams {
            generation,
            tracks,
            stems,
            master: (self.master != new.master).then(|| new.master.clone()),
        }
    }
}

fn same_chain_shape(a: &[Effect], b: &[Effect]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(a, b)| match (&a.kind, &b.kind) {
            (EffectKind::Eq(x), EffectKind::Eq(y)) => {
                x.bands.len() == y.bands.len()
                    && x.bands
                        .iter()
                        .zip(&y.bands)
                        .all(|(p, q)| p.shape == q.shape)
            }
            (EffectKind::Limiter(x), EffectKind::Limiter(y)) => x.lookahead_ms == y.lookahead_ms,
            (EffectKind::Compressor(_), EffectKind::Compressor(_))
            | (EffectKind::Delay(_), EffectKind::Delay(_))
            | (EffectKind::Reverb(_), EffectKind::Reverb(_)) => true,
            _ => false,
        })
}

/// New parameters for running chains (same shapes), built off the audio thread. The
/// audio thread applies them to the [`Fx`] of the same `generation` and swaps each list
/// into that `Fx`'s record, so what comes back to be freed is the replaced settings.
#[derive(Debug, Default)]
pub struct EffectParams {
    pub(crate) generation: u64,
    /// (track index, its chain's effects).
    pub(crate) tracks: Vec<(usize, Vec<Effect>)>,
    /// (plan stem index, its chain's effects).
    pub(crate) stems: Vec<(usize, Vec<Effect>)>,
    pub(crate) master: Option<Master>,
}

impl EffectParams {
    /// Add to `newer` (later changes of the same effects) what only `self` changes.
    pub(crate) fn merge_into(&mut self, newer: &mut EffectParams) {
        for (i, e) in self.tracks.drain(..) {
            if !newer.tracks.iter().any(|(j, _)| *j == i) {
                newer.tracks.push((i, e));
            }
        }
        for (i, e) in self.stems.drain(..) {
            if !newer.stems.iter().any(|(j, _)| *j == i) {
                newer.stems.push((i, e));
            }
        }
        if newer.master.is_none() {
            newer.master = self.master.take();
        }
    }
}

/// The processing of one mix as the audio thread runs it, with the settings it was built
/// from (or last updated to).
pub(crate) struct Fx {
    pub generation: u64,
    pub inserts: MixInserts,
    pub bus: MasterBus,
    pub settings: FxSettings,
}

impl Fx {
    /// Build every chain and the master bus for `settings` (allocates: control thread).
    /// Fails only on a parameter out of range, which checked settings never have.
    pub fn build(settings: FxSettings, rate: u32, generation: u64) -> Result<Box<Fx>, EffectError> {
        let chain = |effects: &[Effect]| {
            if effects.is_empty() {
                Ok(None)
            } else {
                Chain::new(effects, rate).map(Some)
            }
        };
        let tracks = settings
            .tracks
            .iter()
            .map(|e| chain(e))
            .collect::<Result<Vec<_>, _>>()?;
        let stems = settings
            .stems
            .iter()
            .map(|(_, e)| chain(e))
            .collect::<Result<Vec<_>, _>>()?;
        let inserts = MixInserts::new(tracks, stems, CHUNK);
        let bus = MasterBus::new(&settings.master, settings.stems.len(), rate)?;
        Ok(Box::new(Fx {
            generation,
            inserts,
            bus,
            settings,
        }))
    }

    /// Frames every stem and the master come out late: the chains' delay compensation
    /// plus the master bus's look-ahead.
    pub fn latency(&self) -> usize {
        self.inserts.latency() + self.bus.latency()
    }

    /// Forget every tail and envelope (a seek).
    pub fn reset(&mut self) {
        self.inserts.reset();
        self.bus.reset();
    }

    /// Audio thread: take over from `old` (the running processing) every chain that can
    /// take this one's settings in place (with its delay compensation when it is as
    /// long), and the master bus when the stems are the same ones, so their state
    /// carries on. What this one built for them goes back with `old`. No allocation:
    /// chains are swapped, never copied.
    pub fn adopt(&mut self, old: &mut Fx) {
        for (i, effects) in self.settings.tracks.iter().enumerate() {
            self.inserts.adopt_track(i, &mut old.inserts, i, effects);
        }
        for (j, (id, effects)) in self.settings.stems.iter().enumerate() {
            if let Some(k) = old.settings.stems.iter().position(|(o, _)| o == id) {
                self.inserts.adopt_stem(j, &mut old.inserts, k, effects);
            }
        }
        let same_stems = self.settings.stems.len() == old.settings.stems.len()
            && self
                .settings
                .stems
                .iter()
                .zip(&old.settings.stems)
                .all(|((a, _), (b, _))| a == b);
        if same_stems
            && old.bus.latency() == self.bus.latency()
            && old.bus.update(&self.settings.master).is_ok()
        {
            std::mem::swap(&mut self.bus, &mut old.bus);
        }
    }

    /// Audio thread: glide to `params` (same shapes). Returns false when a chain refused
    /// (its shape changed after all): the control side then rebuilds. The replaced
    /// settings are left in `params`, to be freed off the audio thread.
    pub fn apply(&mut self, params: &mut EffectParams) -> bool {
        let mut ok = true;
        for (i, effects) in &mut params.tracks {
            if let Some(chain) = self.inserts.track_chain_mut(*i) {
                ok &= chain.update(effects).is_ok();
            }
            if let Some(record) = self.settings.tracks.get_mut(*i) {
                std::mem::swap(record, effects);
            }
        }
        for (j, effects) in &mut params.stems {
            if let Some(chain) = self.inserts.stem_chain_mut(*j) {
                ok &= chain.update(effects).is_ok();
            }
            if let Some((_, record)) = self.settings.stems.get_mut(*j) {
                std::mem::swap(record, effects);
            }
        }
        if let Some(master) = &mut params.master {
            ok &= self.bus.update(master).is_ok();
            std::mem::swap(&mut self.settings.master, master);
        }
        ok
    }
}
