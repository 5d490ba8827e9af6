//! The demo song's tempo, shared by the song and the singing voice.

pub const BPM: f64 = 110.0;
/// Seconds per beat.
pub const BEAT: f64 = 60.0 / BPM;
