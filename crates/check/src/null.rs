//! The null test: the stems summed against the master, streamed block by block.

use std::path::{Path, PathBuf};

use stemdeck_session::units::{level_db, power_to_db};

use crate::error::CheckError;
use crate::report::NullTest;
use crate::thresholds::NULL_PASS_DBFS;

/// Stream the stems and the master at `rate`, sum the stems, and compare: the residual's
/// sample peak and RMS. Bounded memory (blocks of [`stemdeck_export::BLOCK_FRAMES`]).
pub fn null_test(
    stems: &[PathBuf],
    master: &Path,
    master_name: &str,
    rate: u32,
) -> Result<NullTest, CheckError> {
    use stemdeck_audio::stream::TrackStream;
    let mut streams: Vec<TrackStream> = stems
        .iter()
        .map(|p| TrackStream::open(p, rate))
        .collect::<Result<_, _>>()?;
    let mut m = TrackStream::open(master, rate)?;
    let frames = streams
        .iter()
        .map(|s| s.len())
        .chain([m.len()])
        .max()
        .unwrap_or(0);
    let n = stemdeck_export::BLOCK_FRAMES;
    let mut buf = [vec![0.0f32; n], vec![0.0f32; n]];
    let mut sum = [vec![0.0f32; n], vec![0.0f32; n]];
    let (mut peak, mut res_sq, mut master_sq) = (0.0f64, 0.0f64, 0.0f64);
    let mut done = 0u64;
    while done < frames {
        let len = n.min(usize::try_from(frames - done).unwrap_or(n));
        for s in &mut sum {
            s.get_mut(..len).unwrap_or_default().fill(0.0);
        }
        for st in &mut streams {
            read_stereo(st, &mut buf, len)?;
            for (s, b) in sum.iter_mut().zip(&buf) {
                for (x, y) in s.iter_mut().zip(b).take(len) {
                    *x += y;
                }
            }
        }
        read_stereo(&mut m, &mut buf, len)?;
        for (s, b) in sum.iter().zip(&buf) {
            for (x, y) in s.iter().zip(b).take(len) {
                let d = f64::from(x - y);
                peak = peak.max(d.abs());
                res_sq += d * d;
                master_sq += f64::from(*y) * f64::from(*y);
            }
        }
        done += len as u64;
    }
    let peak_db = level_db(peak).map(|d| (d * 10.0).round() / 10.0);
    let vs_master = if res_sq > 0.0 && master_sq > 0.0 {
        Some((power_to_db(res_sq / master_sq) * 10.0).round() / 10.0)
    } else {
        None
    };
    let passed = peak_db.is_none_or(|d| d <= NULL_PASS_DBFS);
    let level = peak_db.map_or_else(|| "-inf dBFS".to_owned(), |d| format!("{d:.1} dBFS"));
    let message = if passed {
        if peak == 0.0 {
            format!("{level}: the stems add up to the master bit for bit")
        } else {
            format!("{level}: the stems add up to the master")
        }
    } else {
        let rel =
            vs_master.map_or_else(String::new, |v| format!(" ({v:+.1} dB against the master)"));
        format!(
            "{level}{rel}: the stems do NOT add up to the master (at most {NULL_PASS_DBFS:.0} dBFS expected)"
        )
    };
    Ok(NullTest {
        master: master_name.to_owned(),
        residual_peak_dbfs: peak_db,
        residual_vs_master_db: vs_master,
        passed,
        message,
    })
}

/// The next `len` frames of a stream as stereo (a mono file on both sides).
fn read_stereo(
    st: &mut stemdeck_audio::stream::TrackStream,
    buf: &mut [Vec<f32>; 2],
    len: usize,
) -> Result<(), CheckError> {
    let [l, r] = buf;
    let (l, r) = (
        l.get_mut(..len).unwrap_or_default(),
        r.get_mut(..len).unwrap_or_default(),
    );
    if st.channels() == 1 {
        st.read(&mut [&mut *l])?;
        r.copy_from_slice(l);
    } else {
        st.read(&mut [l, r])?;
    }
    Ok(())
}
