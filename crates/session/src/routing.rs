//! Who is heard, at what gain: the mute/solo rules turned into plain numbers.
//!
//! This is the one place the semantics live (docs/mixing.md explains them):
//! - **Solo in place, additive.** When anything is soloed (a track or a stem), only
//!   soloed things are heard; several solos add up.
//! - **Solo overrides mute.** A soloed track is heard even if it or its stem is muted;
//!   a soloed stem is heard even if muted, minus its own muted tracks.
//! - **Mute** silences a track, or a whole stem.
//!
//! Stem export ([`MixMode::Stems`]) renders every stem regardless of stem mute and of
//! solos (those are auditioning controls), but a muted track stays out of its stem:
//! muting a track is a mix decision. The master is always the sum of the stems.

use crate::units::db_to_gain;
use crate::{Session, StemId};

/// How the mute and solo switches are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MixMode {
    /// Live playback and full-mix variants: every mute and solo applies.
    Audition,
    /// Stem export: track mutes apply; stem mutes and all solos are ignored.
    Stems,
}

/// One track's contribution to its stem.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrackGain {
    /// Index into `Session::tracks`.
    pub track: usize,
    /// Linear gain (0 when the track is not heard).
    pub gain: f32,
    /// -1 .. +1, read by the pan law (mono) or as a balance (stereo).
    pub pan: f32,
}

/// One stem: its gain and its tracks.
#[derive(Clone, Debug, PartialEq)]
pub struct StemGain {
    pub stem: StemId,
    /// Linear gain (0 when the stem is not heard).
    pub gain: f32,
    pub tracks: Vec<TrackGain>,
}

/// The whole routing, in stem order. Tracks in no stem do not appear.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MixPlan {
    pub stems: Vec<StemGain>,
}

impl Session {
    /// The routing for `mode` under the current gains, pans, mutes and solos.
    pub fn mix_plan(&self, mode: MixMode) -> MixPlan {
        let stemmed = |t: &crate::Track| self.stem_of(t.id).is_some();
        let any_solo = mode == MixMode::Audition
            && (self.stems.iter().any(|s| s.solo)
                || self.tracks.iter().any(|t| t.solo && stemmed(t)));
        let stems = self
            .stems
            .iter()
            .map(|stem| {
                let tracks = stem
                    .tracks
                    .iter()
                    .filter_map(|id| self.track_index(*id))
                    .filter_map(|i| self.tracks.get(i).map(|t| (i, t)))
                    .map(|(i, t)| {
                        let heard = match mode {
                            MixMode::Stems => !t.mute,
                            MixMode::Audition if any_solo => t.solo || (stem.solo && !t.mute),
                            MixMode::Audition => !t.mute && !stem.mute,
                        };
                        TrackGain {
                            track: i,
                            gain: if heard { db_to_gain(t.gain_db) } else { 0.0 },
                            pan: t.pan.clamp(-1.0, 1.0),
                        }
                    })
                    .collect();
                StemGain {
                    stem: stem.id,
                    gain: db_to_gain(stem.gain_db),
                    tracks,
                }
            })
            .collect();
        MixPlan { stems }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Song, Track, TrackId};

    /// Drums = {kick, snare}, Vocals = {lead, bgv}; "click" unassigned.
    fn session() -> Session {
        let mut s = Session::new(48_000, Song::default());
        for (i, n) in ["kick", "snare", "lead", "bgv", "click"].iter().enumerate() {
            s.tracks
                .push(Track::new(TrackId(i as u32 + 1), *n, format!("{n}.wav")));
        }
        let d = s.add_stem("Drums");
        let v = s.add_stem("Vocals");
        s.move_tracks(&[TrackId(1), TrackId(2)], Some(d), None);
        s.move_tracks(&[TrackId(3), TrackId(4)], Some(v), None);
        s
    }

    /// Which track names are heard, in order.
    fn heard(s: &Session, mode: MixMode) -> Vec<&str> {
        let plan = s.mix_plan(mode);
        plan.stems
            .iter()
            .filter(|st| st.gain > 0.0)
            .flat_map(|st| st.tracks.iter().filter(|t| t.gain > 0.0))
            .map(|t| s.tracks[t.track].name.as_str())
            .collect()
    }

    #[test]
    fn nothing_pressed_everything_in_a_stem_is_heard() {
        assert_eq!(
            heard(&session(), MixMode::Audition),
            ["kick", "snare", "lead", "bgv"]
        );
    }

    #[test]
    fn stem_mute_gives_the_instrumental() {
        let mut s = session();
        s.stems[1].mute = true;
        let plan = s.mix_plan(MixMode::Audition);
        assert!(plan.stems[1].tracks.iter().all(|t| t.gain == 0.0));
        assert_eq!(heard(&s, MixMode::Audition), ["kick", "snare"]);
    }

    #[test]
    fn stem_solo_gives_the_a_cappella_minus_muted_tracks() {
        let mut s = session();
        s.stems[1].solo = true;
        assert_eq!(heard(&s, MixMode::Audition), ["lead", "bgv"]);
        s.tracks[3].mute = true;
        assert_eq!(heard(&s, MixMode::Audition), ["lead"]);
    }

    #[test]
    fn solos_add_up_across_tracks_and_stems() {
        let mut s = session();
        s.stems[1].solo = true;
        s.tracks[0].solo = true;
        assert_eq!(heard(&s, MixMode::Audition), ["kick", "lead", "bgv"]);
    }

    #[test]
    fn solo_overrides_mute() {
        let mut s = session();
        s.tracks[1].mute = true;
        s.tracks[1].solo = true;
        assert_eq!(heard(&s, MixMode::Audition), ["snare"]);
        let mut s = session();
        s.stems[0].mute = true;
        s.tracks[0].solo = true;
        // The stem is muted, but a solo inside it still comes through.
        let plan = s.mix_plan(MixMode::Audition);
        assert!(plan.stems[0].tracks[0].gain > 0.0);
        let mut s = session();
        s.stems[1].mute = true;
        s.stems[1].solo = true;
        assert_eq!(heard(&s, MixMode::Audition), ["lead", "bgv"]);
    }

    #[test]
    fn a_solo_on_an_unassigned_track_silences_nothing() {
        let mut s = session();
        s.tracks[4].solo = true;
        assert_eq!(
            heard(&s, MixMode::Audition),
            ["kick", "snare", "lead", "bgv"]
        );
    }

    #[test]
    fn stem_export_ignores_solos_and_stem_mutes_but_keeps_track_mutes() {
        let mut s = session();
        s.stems[0].mute = true;
        s.stems[1].solo = true;
        s.tracks[3].mute = true;
        assert_eq!(heard(&s, MixMode::Stems), ["kick", "snare", "lead"]);
    }

    #[test]
    fn gains_are_linear() {
        let mut s = session();
        s.tracks[0].gain_db = -6.0;
        s.stems[0].gain_db = 6.0;
        let plan = s.mix_plan(MixMode::Stems);
        assert!((plan.stems[0].tracks[0].gain - 0.501_187).abs() < 1e-5);
        assert!((plan.stems[0].gain - 1.995_262).abs() < 1e-5);
    }
}
