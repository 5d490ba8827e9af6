//! The export job both front ends run: options from the saved settings, the export on
//! its own thread with progress, cancel and result.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use stemdeck_export::{
    ExportError, ExportJob, JobStatus, OutputFormat, SettingsError, Stage, export_delivery,
    options_for,
};
use stemdeck_session::{ExportSettings, Session, Song, Track, TrackId};

const RATE: u32 = 48_000;

/// Kick, Bass and Vox as mono 16-bit sines, `secs` long, grouped by name into stems.
fn session(dir: &Path, secs: f64) -> Session {
    let mut s = Session::new(RATE, Song::default());
    s.song.title = "Job Song".into();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let frames = (secs * f64::from(RATE)) as u32;
    for (i, (name, hz)) in [("Kick", 60.0), ("Bass", 110.0), ("Vox", 440.0)]
        .into_iter()
        .enumerate()
    {
        let path = dir.join(format!("{name}.wav"));
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        let step = std::f64::consts::TAU * hz / f64::from(RATE);
        (0..frames).for_each(|n| {
            w.write_sample((8000.0 * (step * f64::from(n)).sin()) as i16)
                .unwrap()
        });
        w.finalize().unwrap();
        s.tracks.push(Track::new(TrackId(i as u32 + 1), name, path));
    }
    stemdeck_session::grouping::auto_group(&mut s);
    s
}

/// Every file below `dir` by name, with its bytes.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                (name, std::fs::read(e.path()).unwrap())
            })
            .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The saved settings with the master and the files in `out`.
fn settings(out: PathBuf) -> ExportSettings {
    ExportSettings {
        master: true,
        sheet: false,
        out_dir: Some(out),
        ..ExportSettings::default()
    }
}

#[test]
fn options_come_from_the_saved_settings() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 0.1);
    // No folder saved: "<title> - Stems" beside the session.
    let (opts, delivery) = options_for(&s, &s.export, dir.path(), false).unwrap();
    assert_eq!(opts.out_dir, dir.path().join("Job Song - Stems"));
    assert_eq!(opts.format, OutputFormat::WAV24);
    assert!(!opts.force && !opts.include_master);
    assert_eq!(delivery, stemdeck_export::DeliveryOptions::default());

    let mut saved = settings(dir.path().join("elsewhere"));
    saved.format = "flac16".into();
    saved.sample_rate = Some(44_100);
    let (opts, delivery) = options_for(&s, &saved, dir.path(), true).unwrap();
    assert_eq!(opts.out_dir, dir.path().join("elsewhere"));
    assert_eq!(opts.format, OutputFormat::FLAC16);
    assert!(opts.force && opts.include_master);
    assert_eq!(delivery.sample_rate, Some(44_100));
    assert!(!delivery.sheet);

    saved.tail_seconds = -1.0;
    let err = options_for(&s, &saved, dir.path(), false).unwrap_err();
    assert!(matches!(err, SettingsError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("tail_seconds"), "{err}");
    saved.tail_seconds = 0.0;
    saved.format = "mp3".into();
    let err = options_for(&s, &saved, dir.path(), false).unwrap_err();
    assert!(
        matches!(err, SettingsError::Format(ExportError::BadOption(_))),
        "{err}"
    );
    assert!(
        err.to_string().contains("unknown export format \"mp3\""),
        "{err}"
    );
}

#[test]
fn a_job_reports_its_progress_and_writes_what_a_direct_export_writes() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 3.0);
    let (direct_dir, job_dir) = (dir.path().join("direct"), dir.path().join("job"));

    let (opts, delivery) =
        options_for(&s, &settings(direct_dir.clone()), dir.path(), false).unwrap();
    let direct = export_delivery(&s, &opts, &delivery, &|_| {}, &AtomicBool::new(false)).unwrap();

    let (opts, delivery) = options_for(&s, &settings(job_dir.clone()), dir.path(), false).unwrap();
    let mut job = ExportJob::start(s.clone(), opts, delivery).unwrap();
    let mut seen: Vec<JobStatus> = Vec::new();
    let report = loop {
        seen.push(job.status());
        if let Some(result) = job.try_result() {
            break result.unwrap();
        }
        std::thread::yield_now();
    };
    // Given once.
    assert!(job.try_result().is_none());
    let end = job.status();
    seen.push(end);

    for pair in seen.windows(2) {
        assert!(pair[0].done_frames <= pair[1].done_frames, "{pair:?}");
    }
    for st in &seen {
        assert!((0.0..=1.0).contains(&st.fraction), "{st:?}");
        assert!(st.done_frames <= st.total_frames, "{st:?}");
        if st.fraction <= 0.02 {
            assert_eq!(st.eta, None, "{st:?}");
        }
    }
    assert!(end.finished);
    assert!(end.total_frames > 0);
    assert_eq!(end.done_frames, end.total_frames);
    assert_eq!(end.fraction, 1.0);
    assert_eq!(end.eta, Some(std::time::Duration::ZERO));
    // The master file is there: the last pass read the files back.
    assert_eq!(end.stage, Stage::Verify);

    // The same files, byte for byte, as the export run directly.
    let (made, expected) = (contents(&job_dir), contents(&direct_dir));
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&made), names(&expected));
    assert_eq!(
        made.len(),
        3 + 1,
        "three stems and the master: {:?}",
        names(&made)
    );
    assert!(
        made == expected,
        "the job's files differ from the direct export's"
    );
    assert_eq!(report.files.len(), direct.files.len());
    for (a, b) in report.files.iter().zip(&direct.files) {
        assert_eq!(a.path.file_name(), b.path.file_name());
        assert_eq!(a.peak, b.peak);
    }
    assert!(report.null_test.unwrap().passed);
}

#[test]
fn a_cancelled_job_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let s = session(dir.path(), 3.0);
    let out = dir.path().join("out");
    let (opts, delivery) = options_for(&s, &settings(out.clone()), dir.path(), false).unwrap();
    let job = ExportJob::start(s, opts, delivery).unwrap();
    job.cancel();
    let err = job.wait().unwrap_err();
    assert!(matches!(err, ExportError::Cancelled), "{err}");
    assert!(!out.exists(), "left behind: {:?}", contents(&out));

    // Into a folder that exists: it stays, empty.
    std::fs::create_dir_all(&out).unwrap();
    let s = session(dir.path(), 3.0);
    let (opts, delivery) = options_for(&s, &settings(out.clone()), dir.path(), false).unwrap();
    let mut job = ExportJob::start(s, opts, delivery).unwrap();
    job.cancel();
    let err = loop {
        if let Some(result) = job.wait_timeout(std::time::Duration::from_millis(10)) {
            break result.unwrap_err();
        }
    };
    assert!(matches!(err, ExportError::Cancelled), "{err}");
    assert!(job.status().finished);
    assert!(
        contents(&out).is_empty(),
        "left behind: {:?}",
        contents(&out)
    );
}
