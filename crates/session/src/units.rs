//! Decibels and times, defined once for the whole program: the mix, the export, the
//! song sheet, the check, the command line and the app all convert and show them here.
//!
//! The arithmetic is part of each definition: exported bytes depend on it. That is why
//! there are f32 and f64 variants: each caller keeps computing in the width it always
//! did (`10f32.powf(db / 20.0)` and `10f64.powf(db / 20.0)` differ in the last bits).

/// A gain at or below this many dB is silence (see [`db_to_gain`]).
pub const SILENCE_DB: f32 = -144.0;

/// A gain in dB (a fader, a clip's gain) as a linear factor, in f32: 0 at or below
/// [`SILENCE_DB`], else 10^(dB/20).
pub fn db_to_gain(db: f32) -> f32 {
    if db <= SILENCE_DB {
        0.0
    } else {
        db_to_amplitude(db)
    }
}

/// A linear gain in dB, in f32: -inf for silence (0 or less).
pub fn gain_to_db(gain: f32) -> f32 {
    if gain <= 0.0 {
        f32::NEG_INFINITY
    } else {
        amplitude_to_db(gain)
    }
}

/// dB to a linear amplitude factor, in f32: 10^(dB/20), no floor.
pub fn db_to_amplitude(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// dB to a linear amplitude factor, in f64: 10^(dB/20), no floor.
pub fn db_to_amplitude_f64(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// A linear amplitude in dB, in f32: 20·log10(x) (-inf for 0, NaN below; callers that
/// show silence check for it first).
pub fn amplitude_to_db(x: f32) -> f32 {
    20.0 * x.log10()
}

/// A linear amplitude in dB, in f64: 20·log10(x) (-inf for 0, NaN below).
pub fn amplitude_to_db_f64(x: f64) -> f64 {
    20.0 * x.log10()
}

/// A measured level (1.0 = 0 dBFS) in dB; `None` for silence (0, negative or NaN).
pub fn level_db(linear: f64) -> Option<f64> {
    (linear > 0.0).then(|| amplitude_to_db_f64(linear))
}

/// A ratio of powers (energies, squared amplitudes) in dB: 10·log10(ratio).
pub fn power_to_db(ratio: f64) -> f64 {
    10.0 * ratio.log10()
}

/// Whole milliseconds in `frames` at `rate` (rounded down; a rate of 0 counts as 1 Hz).
fn millis(frames: u64, rate: u32) -> u64 {
    (u128::from(frames) * 1000 / u128::from(rate.max(1))) as u64
}

/// A length or position for people to read: "m:ss.mmm", and "h:mm:ss.mmm" from an hour
/// on (rounded down to the millisecond). The command line, the song sheet, the check and
/// messages.
pub fn format_time(frames: u64, rate: u32) -> String {
    let ms = millis(frames, rate);
    let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{milli:03}")
    } else {
        format!("{m}:{s:02}.{milli:03}")
    }
}

/// A position as the app shows it: "m:ss.mmm", the minutes counting on past the hour
/// ("75:00.000"), so that [`parse_time`] reads it back.
pub fn format_minutes(frames: u64, rate: u32) -> String {
    let ms = millis(frames, rate);
    format!("{}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000)
}

/// Seconds from a time as typed: "1:02.500", " 0:05 " (minutes and seconds, as
/// [`format_minutes`] writes it) or "62.5" (seconds). `None` for anything else, a
/// negative time or 60 seconds and more after the colon.
pub fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    match s.split_once(':') {
        Some((m, rest)) => {
            let m: f64 = m.trim().parse().ok()?;
            let secs: f64 = rest.trim().parse().ok()?;
            (m >= 0.0 && (0.0..60.0).contains(&secs)).then_some(m * 60.0 + secs)
        }
        None => s.parse().ok().filter(|v: &f64| *v >= 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_decibels() {
        assert_eq!(db_to_amplitude(0.0), 1.0);
        assert_eq!(db_to_amplitude_f64(0.0), 1.0);
        assert_eq!(db_to_amplitude(20.0), 10.0);
        assert_eq!(db_to_amplitude_f64(-40.0), 0.01);
        assert!((db_to_amplitude(-6.0) - 0.501_187).abs() < 1e-6);
        assert!((db_to_amplitude_f64(6.0) - 1.995_262_314_968_88).abs() < 1e-12);
        assert_eq!(amplitude_to_db(1.0), 0.0);
        assert_eq!(amplitude_to_db_f64(10.0), 20.0);
        assert_eq!(amplitude_to_db(0.0), f32::NEG_INFINITY);
        assert!(amplitude_to_db_f64(-1.0).is_nan());
        assert!((amplitude_to_db_f64(0.5) + 6.020_599_913_279_624).abs() < 1e-12);
        assert_eq!(power_to_db(100.0), 20.0);
        assert!((power_to_db(0.5) + 3.010_299_956_639_812).abs() < 1e-12);
    }

    #[test]
    fn session_gains_have_a_silence_floor() {
        assert_eq!(db_to_gain(SILENCE_DB), 0.0);
        assert_eq!(db_to_gain(-200.0), 0.0);
        assert_eq!(db_to_gain(f32::NEG_INFINITY), 0.0);
        assert!(db_to_gain(-143.9) > 0.0);
        assert_eq!(db_to_gain(0.0), 1.0);
        assert_eq!(gain_to_db(0.0), f32::NEG_INFINITY);
        assert_eq!(gain_to_db(-0.5), f32::NEG_INFINITY);
        assert_eq!(gain_to_db(1.0), 0.0);
        assert!((gain_to_db(0.5) + 6.0206).abs() < 1e-4);
    }

    #[test]
    fn levels_are_none_for_silence() {
        assert_eq!(level_db(1.0), Some(0.0));
        assert_eq!(level_db(0.1), Some(-20.0));
        assert_eq!(level_db(0.0), None);
        assert_eq!(level_db(-0.25), None);
        assert_eq!(level_db(f64::NAN), None);
    }

    #[test]
    fn decibels_round_trip() {
        for tenth in -1200..=240 {
            let db = f64::from(tenth) / 10.0;
            let back = amplitude_to_db_f64(db_to_amplitude_f64(db));
            assert!((back - db).abs() < 1e-9, "{db} dB came back as {back}");
            let db32 = db as f32;
            let back32 = gain_to_db(db_to_gain(db32));
            assert!(
                (back32 - db32).abs() < 1e-3,
                "{db32} dB came back as {back32}"
            );
        }
        for x in [1e-6, 0.001, 0.25, 0.5, 0.999, 1.0, 2.0, 1000.0] {
            let back = db_to_amplitude_f64(amplitude_to_db_f64(x));
            assert!((back / x - 1.0).abs() < 1e-12, "{x} came back as {back}");
        }
    }

    /// Each variant is exactly the formula its callers used before it was shared: the
    /// same bits, so the same exported bytes.
    #[test]
    fn the_formulas_are_the_ones_the_callers_used() {
        for k in -2000..=400 {
            let db = k as f32 * 0.0731;
            assert_eq!(
                db_to_amplitude(db).to_bits(),
                10f32.powf(db / 20.0).to_bits()
            );
            let db = f64::from(k) * 0.0731;
            assert_eq!(
                db_to_amplitude_f64(db).to_bits(),
                10f64.powf(db / 20.0).to_bits()
            );
        }
        for k in 1..=1000 {
            let x = f64::from(k) / 997.0;
            assert_eq!(
                amplitude_to_db_f64(x).to_bits(),
                (20.0 * x.log10()).to_bits()
            );
            let x = x as f32;
            assert_eq!(amplitude_to_db(x).to_bits(), (20.0 * x.log10()).to_bits());
        }
    }

    #[test]
    fn times_read_as_minutes_seconds_and_milliseconds() {
        assert_eq!(format_time(0, 48_000), "0:00.000");
        assert_eq!(format_time(48_000 * 61 + 24, 48_000), "1:01.000");
        assert_eq!(format_time(48_000 * 61 + 48, 48_000), "1:01.001");
        assert_eq!(format_time(44_100 * 3_725, 44_100), "1:02:05.000");
        assert_eq!(format_time(8000 * 3725, 8000), "1:02:05.000");
        assert_eq!(format_time(44_100 * 3_599 + 44_099, 44_100), "59:59.999");
        assert_eq!(format_time(3, 0), "0:03.000");
        assert_eq!(format_minutes(48_000 * 75 + 24, 48_000), "1:15.000");
        assert_eq!(format_minutes(48_000 * 4_500, 48_000), "75:00.000");
        assert_eq!(format_minutes(22_050, 44_100), "0:00.500");
        assert_eq!(format_minutes(3, 0), "0:03.000");
    }

    #[test]
    fn times_parse_as_typed() {
        assert_eq!(parse_time("1:02.500"), Some(62.5));
        assert_eq!(parse_time(" 0:05 "), Some(5.0));
        assert_eq!(parse_time("2.25"), Some(2.25));
        assert_eq!(parse_time("75:00.000"), Some(4500.0));
        assert_eq!(parse_time("1:75"), None);
        assert_eq!(parse_time("1:60"), None);
        assert_eq!(parse_time("-1"), None);
        assert_eq!(parse_time("-1:00"), None);
        assert_eq!(parse_time("abc"), None);
        assert_eq!(parse_time(""), None);
    }

    #[test]
    fn the_app_clock_reads_back_to_the_millisecond() {
        let rate = 44_100;
        for frames in [
            0,
            1,
            44,
            44_099,
            44_100,
            2_646_000,
            158_760_000,
            1_234_567_891,
        ] {
            let shown = format_minutes(frames, rate);
            let secs = parse_time(&shown).unwrap_or(-1.0);
            let want = (frames * 1000 / u64::from(rate)) as f64 / 1000.0;
            assert!(
                (secs - want).abs() < 1e-9,
                "{frames}: {shown} read as {secs}"
            );
        }
    }
}
