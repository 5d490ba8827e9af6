//! Device-free tests of the real-time processor, driven directly as the audio callback
//! would drive it.
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use stemdeck_engine::{FADE_MS, RAMP_MS};

const FADE: usize = (RATE * FADE_MS / 1000) as usize;
const RAMP: usize = (RATE * RAMP_MS / 1000) as usize;

#[test]
fn playback_equals_the_offline_render_for_any_block_size() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 1.0);
    let want = offline(&s, 0, 30_000);
    for block in [64, 441, 512, 1024, 4096] {
        let (mut e, mut p) = engine(&s);
        e.play();
        let got = render(&mut p, 30_000, block);
        // After the 5 ms start fade the output is the offline render, sample for sample.
        let d = max_abs_diff(&got[FADE * 2..], &want[FADE * 2..]);
        assert!(d < 1e-6, "block {block}: max diff {d}");
        assert!(
            got[..FADE * 2]
                .iter()
                .zip(&want)
                .all(|(g, w)| g.abs() <= w.abs() + 1e-6)
        );
    }
}

#[test]
fn the_engine_equals_the_real_export() {
    let dir = tempfile::tempdir().unwrap();
    engine_equals_export(&session(dir.path(), 0.5), dir.path());
}

/// With effects on tracks, stems and the master, playback equals the real wet export
/// (the master file, which is the sum of the wet stems).
#[test]
fn the_engine_with_effects_equals_the_real_wet_export() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 0.5);
    with_effects(&mut s);
    engine_equals_export(&s, dir.path());
}

fn engine_equals_export(s: &stemdeck_session::Session, dir: &std::path::Path) {
    let s = s.clone();
    let out = dir.join("stems");
    let mut opts = stemdeck_export::ExportOptions::new(out.clone());
    opts.format = stemdeck_export::OutputFormat::WAV32F;
    opts.include_master = true;
    let report = stemdeck_export::export(
        &s,
        &opts,
        &|_| {},
        &std::sync::atomic::AtomicBool::new(false),
    )
    .unwrap();
    let master = report.files.iter().find(|f| f.is_master).unwrap();
    let exported: Vec<f32> = hound::WavReader::open(&master.path)
        .unwrap()
        .samples::<f32>()
        .map(Result::unwrap)
        .collect();
    let (mut e, mut p) = engine(&s);
    e.play();
    let got = render(&mut p, exported.len() / 2, 512);
    let first_off = got
        .iter()
        .zip(&exported)
        .skip(FADE * 2)
        .position(|(a, b)| (a - b).abs() >= 1e-6);
    let d = max_abs_diff(&got[FADE * 2..], &exported[FADE * 2..]);
    assert!(
        d < 1e-6,
        "max diff {d}, first at sample {first_off:?} of {}",
        got.len()
    );
}

#[test]
fn commands_take_effect_at_the_next_callback() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 1.0);
    let (mut e, mut p) = engine(&s);
    let silent = render(&mut p, 1024, 256);
    assert!(silent.iter().all(|x| *x == 0.0), "paused: silence");
    e.play();
    let first = render(&mut p, 256, 256);
    assert!(
        first.iter().any(|x| *x != 0.0),
        "play is heard in the very next callback"
    );
    render(&mut p, 4096, 256);
    // Mute everything: the ramp starts with the next callback and ends within RAMP.
    for st in &mut s.stems {
        st.mute = true;
    }
    e.set_mix(&s);
    let out = render(&mut p, 1024, 256);
    let before = offline(&session_unmuted(&s), 4096 + 256, 1);
    assert!(out[0].abs() <= before[0].abs() + 1e-6);
    assert!(
        out[RAMP * 2..].iter().all(|x| *x == 0.0),
        "fully muted after the ramp"
    );
    assert!(out[..RAMP * 2].iter().any(|x| *x != 0.0), "ramped, not cut");
}

fn session_unmuted(s: &stemdeck_session::Session) -> stemdeck_session::Session {
    let mut s = s.clone();
    for st in &mut s.stems {
        st.mute = false;
    }
    s
}

#[test]
fn mute_and_solo_follow_the_session_rules() {
    let dir = tempfile::tempdir().unwrap();
    let base = session(dir.path(), 0.5);
    // Instrumental (Vocals muted), a cappella (Vocals soloed), Vocals + Kick.
    let mut variants = Vec::new();
    let mut s = base.clone();
    s.stems[2].mute = true;
    variants.push(s);
    let mut s = base.clone();
    s.stems[2].solo = true;
    variants.push(s);
    let mut s = base.clone();
    s.stems[2].solo = true;
    s.tracks[0].solo = true;
    variants.push(s);
    for v in variants {
        let (mut e, mut p) = engine(&base);
        e.set_mix(&v);
        e.play();
        let got = render(&mut p, 12_000, 512);
        let want = offline(&v, 0, 12_000);
        let d = max_abs_diff(&got[(FADE + RAMP) * 2..], &want[(FADE + RAMP) * 2..]);
        assert!(d < 1e-6, "max diff {d}");
    }
}

#[test]
fn toggles_ramp_without_clicks() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 1.0);
    let (mut e, mut p) = engine(&s);
    e.play();
    let mut out = render(&mut p, 2048, 128);
    // The largest sample-to-sample step of the music itself.
    let natural = out[FADE * 2..]
        .chunks(2)
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).abs())
        .fold(0.0, f32::max);
    for k in 0..12 {
        s.stems[k % 4].mute = !s.stems[k % 4].mute;
        s.stems[(k + 1) % 4].solo = k % 3 == 0;
        e.set_mix(&s);
        out.extend(render(&mut p, 384, 128));
    }
    let left: Vec<f32> = out.chunks(2).map(|f| f[0]).collect();
    let worst = left[FADE..]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    // A cut would jump by up to the full level (about 1.0); a ramp adds at most level/RAMP.
    assert!(
        worst < natural + 1.2 / RAMP as f32 * 4.0,
        "step {worst} vs natural {natural}"
    );
}

#[test]
fn seek_never_plays_stale_audio() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 2.0);
    let (mut e, mut p) = engine(&s);
    e.play();
    render(&mut p, 9600, 480);
    let target = 60_000u64;
    e.seek(target);
    let (_, out) = through_a_seek(&mut p);
    let before = offline(&s, 9600, FADE);
    // First: a fade-out of the old position (at most FADE frames of it, never louder).
    let old: Vec<f32> = out.iter().take(FADE * 2).copied().collect();
    assert!(
        old.iter()
            .zip(&before)
            .all(|(o, b)| o.abs() <= b.abs() + 1e-6)
    );
    // Then silence until the new audio, which must be exactly the new position's.
    let start = out[FADE * 2..]
        .iter()
        .position(|x| *x != 0.0)
        .map(|i| i / 2 * 2 + FADE * 2)
        .unwrap();
    let played = (out.len() - start) / 2;
    let want = offline(&s, target, played);
    // The new audio fades in; after the fade it is the offline render exactly.
    let d = max_abs_diff(&out[start + FADE * 2..], &want[FADE * 2..]);
    assert!(d < 1e-6, "after seek: max diff {d}");
    assert_eq!(p.position(), target + played as u64);
}

#[test]
fn a_loop_repeats_its_region_seamlessly() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 1.0);
    let (a, b) = (12_000u64, 20_000u64);
    let (mut e, mut p) = engine(&s);
    e.set_loop(a, b, true);
    e.seek(a);
    e.play();
    // Let the reader settle on the loop start.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let got = render(&mut p, 3 * (b - a) as usize, 500);
    let once = offline(&s, a, (b - a) as usize);
    let want: Vec<f32> = once.iter().chain(&once).chain(&once).copied().collect();
    let d = max_abs_diff(&got[FADE * 2..], &want[FADE * 2..]);
    assert!(d < 1e-6, "loop: max diff {d}");
    assert_eq!(p.position(), a);
}

#[test]
fn regrouping_while_playing_keeps_the_master_and_moves_the_meters() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 1.0);
    let (mut e, mut p) = engine(&s);
    e.play();
    render(&mut p, 4800, 480);
    // Move Keys from Instruments into Vocals: the master must not change at all.
    let keys = s.tracks[4].id;
    let vocals = s.stems[2].id;
    s.move_tracks(&[keys], Some(vocals), None);
    e.set_mix(&s);
    let got = render(&mut p, 4800, 480);
    let want = offline(&s, 4800, 4800);
    assert!(max_abs_diff(&got, &want) < 1e-6);
    let fb = e.feedback();
    fb.stem_meter(3).unwrap().take();
    render(&mut p, 4800, 480);
    assert_eq!(
        fb.stem_meter(3).unwrap().take().0,
        0.0,
        "Instruments is empty now"
    );
    assert!(
        fb.stem_meter(2).unwrap().take().0 > 0.2,
        "Vocals carries the keys"
    );
}

#[test]
fn playback_stops_at_the_end_of_the_song() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 0.2);
    let (mut e, mut p) = engine(&s);
    e.play();
    let out = render(&mut p, 20_000, 1000);
    assert_eq!(p.position(), 9600);
    assert!(!p.is_playing());
    assert!(out[9600 * 2..].iter().all(|x| *x == 0.0));
    assert!(e.feedback().callbacks() >= 20);
}

#[test]
fn every_track_has_a_meter_after_its_own_gain_pan_and_mute() {
    use stemdeck_audio::kernel::channel_gains;
    use stemdeck_session::units::db_to_gain;
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 1.0);
    s.tracks[3].mute = true; // Vox
    let (mut e, mut p) = engine(&s);
    e.play();
    render(&mut p, 9600, 480);
    let fb = e.feedback();
    let peak = |i: usize| fb.track_meter(i).unwrap().take().0;
    // Mono at centre: the pan law's gain on the louder side.
    let (l, r) = channel_gains(1, 1.0, 0.0);
    let kick = peak(0);
    assert!((kick - 0.5 * l.max(r)).abs() < 0.01, "kick {kick}");
    let bass = peak(2);
    let want = 0.4 * db_to_gain(-3.0) * l.max(r);
    assert!((bass - want).abs() < 0.01, "bass {bass}, want {want}");
    assert_eq!(peak(3), 0.0, "a muted track's meter stays down");
    assert!(peak(4) > 0.1, "keys");
    // Taken: the next read starts from silence until the next callback.
    assert_eq!(peak(0), 0.0);
    render(&mut p, 480, 480);
    assert!(peak(0) > 0.0);
}

/// The live mix runs the wet export's processing: track and stem chains in the kernel,
/// the master bus after it, the latency compensated. Compared with an offline render
/// done as the export does it (kernel + MixInserts + MasterBus, latency dropped at the
/// start), at every block size.
#[test]
fn playback_with_effects_equals_the_wet_offline_render() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 1.0);
    with_effects(&mut s);
    let want = offline(&s, 0, 30_000);
    // The render itself does not depend on its block size.
    assert!(max_abs_diff(&want, &offline_in_blocks(&s, 0, 30_000, 333)) < 1e-6);
    let dry = {
        let mut d = s.clone();
        d.master = Default::default();
        for t in &mut d.tracks {
            t.effects.clear();
        }
        for st in &mut d.stems {
            st.effects.clear();
        }
        offline(&d, 0, 30_000)
    };
    assert!(
        max_abs_diff(&want, &dry) > 0.05,
        "the effects change the sound"
    );
    for block in [64, 441, 512, 1024, 4096] {
        let (mut e, mut p) = engine(&s);
        // Track limiter 2 ms + stem limiter 1 ms + master limiter 4 ms.
        assert_eq!(p.latency(), 96 + 48 + 192, "block {block}");
        e.play();
        let got = render(&mut p, 30_000, block);
        let d = max_abs_diff(&got[FADE * 2..], &want[FADE * 2..]);
        assert!(d < 1e-6, "block {block}: max diff {d}");
        assert_eq!(p.position(), 30_000, "the playhead is the frame heard");
    }
}

/// After a seek the chains are reset and pre-rolled: the output is the offline render
/// from the new position (fresh chains), and the playhead says the frame heard.
#[test]
fn a_seek_with_effects_plays_the_render_from_there() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 2.0);
    with_effects(&mut s);
    let (mut e, mut p) = engine(&s);
    e.play();
    render(&mut p, 9600, 480);
    let target = 50_000u64;
    e.seek(target);
    let (start, out) = through_a_seek(&mut p);
    let played = (out.len() - start) / 2;
    let want = offline(&s, target, played);
    let d = max_abs_diff(&out[start + FADE * 2..], &want[FADE * 2..]);
    assert!(d < 1e-6, "after seek: max diff {d}");
    assert_eq!(p.position(), target + played as u64);
}

/// Call back like a device, in blocks of 480 frames, whether or not the reader is ready,
/// until the new audio starts (after the fade-out and the wait for the reader); then
/// 40 more blocks, each once the reader has it (so a loaded machine cannot starve them).
/// Returns where the new audio starts and the output.
fn through_a_seek(p: &mut stemdeck_engine::Processor) -> (usize, Vec<f32>) {
    let mut out = Vec::new();
    let t = std::time::Instant::now();
    while !out
        .get(FADE * 2..)
        .is_some_and(|o: &[f32]| o.iter().any(|x| *x != 0.0))
    {
        assert!(t.elapsed().as_secs() < 10, "the new audio never came");
        let mut buf = vec![0.0; 480 * 2];
        p.process(&mut buf, 2);
        out.extend(buf);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    out.extend(render(p, 40 * 480, 480));
    let start = out[FADE * 2..]
        .iter()
        .position(|x| *x != 0.0)
        .map(|i| i / 2 * 2 + FADE * 2)
        .unwrap();
    (start, out)
}

/// Parameter edits glide in place (nothing rebuilt, nothing cut): no step larger than
/// the music's own, and the new settings hold once glided.
#[test]
fn effect_parameters_glide_while_playing() {
    use stemdeck_session::effects::EffectKind;
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 2.0);
    with_effects(&mut s);
    let (mut e, mut p) = engine(&s);
    e.play();
    let mut out = render(&mut p, 4800, 480);
    // Every kind of in-place edit at once: a reverb mix, a compressor threshold, a
    // track EQ bypass, the master fader and a master limiter ceiling.
    if let EffectKind::Reverb(r) = &mut s.stems[2].effects[0].kind {
        r.mix = 0.6;
    }
    if let EffectKind::Compressor(c) = &mut s.master.effects[1].kind {
        c.threshold_db = -20.0;
    }
    s.tracks[0].effects[0].bypass = true;
    s.master.gain_db = -4.0;
    if let EffectKind::Limiter(l) = &mut s.master.effects[2].kind {
        l.ceiling_db = -9.0;
    }
    e.set_mix(&s);
    assert_eq!(e.effects_problem(), None);
    out.extend(render(&mut p, 24_000, 480));
    let left: Vec<f32> = out.chunks(2).map(|f| f[0]).collect();
    let natural = left[FADE..4800]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    let worst = left[4800..]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    assert!(worst < natural * 1.5, "step {worst} vs natural {natural}");
    // The master limiter's new ceiling (−9 dB, then the fader's −4 dB) holds once glided.
    let ceiling = 10f32.powf((-9.0 - 4.0) / 20.0);
    let peak = out[20_000 * 2..].iter().fold(0f32, |m, x| m.max(x.abs()));
    assert!(peak <= ceiling * 1.001, "peak {peak} over {ceiling}");
    assert!(peak > ceiling * 0.5, "still playing: {peak}");
}

/// A change of shape builds new chains off the audio thread; every running chain that
/// can take its new settings is moved over, so the untouched ones carry on (a reverb tail
/// is not cut). Bass is muted (its chain never runs), so with the chains carried over
/// the output is exactly that of a session that had the new delay all along.
#[test]
fn rebuilt_effects_keep_the_untouched_chains_running() {
    use stemdeck_session::effects::{Delay, Effect, EffectKind};
    let dir = tempfile::tempdir().unwrap();
    let mut s = session(dir.path(), 2.0);
    with_effects(&mut s);
    s.tracks[2].mute = true;
    let (mut e, mut p) = engine(&s);
    e.play();
    render(&mut p, 9600, 480);
    s.tracks[2]
        .effects
        .push(Effect::new(EffectKind::Delay(Delay::default())));
    e.set_mix(&s);
    let got = render(&mut p, 19_200, 480);
    let all_along = offline(&s, 0, 9600 + 19_200);
    let d = max_abs_diff(&got, &all_along[9600 * 2..]);
    assert!(d < 1e-6, "untouched chains carried on: {d}");
    // Fresh chains from there would sound different (the test has teeth).
    let fresh = offline(&s, 9600, 19_200);
    assert!(max_abs_diff(&got, &fresh) > 1e-3);

    // Removing the master limiter changes the latency: a fade-out, then playback goes on
    // from the frame heard, as a seek there would.
    let at = p.position();
    assert_eq!(at, 9600 + 19_200);
    s.master.effects.pop();
    e.set_mix(&s);
    let (start, out) = through_a_seek(&mut p);
    assert_eq!(p.latency(), 96 + 48);
    let played = (out.len() - start) / 2;
    let resumed = p.position() - played as u64;
    // The fade-out ends within the first callback; the swap waits for the next one.
    assert!(
        (at..=at + 480).contains(&resumed),
        "resumed at {resumed}, was at {at}"
    );
    let want = offline(&s, resumed, played);
    let d = max_abs_diff(&out[start + FADE * 2..], &want[FADE * 2..]);
    assert!(d < 1e-6, "after the latency change: {d}");
}
