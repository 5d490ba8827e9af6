//! Broadcast Wave positions: bext TimeReference, iXML, and a folder's positions relative
//! to its earliest file.

mod common;

use std::process::Command;

use common::write_bwf;
use stemdeck_project::bwf::{self, Source};

const TEN_AM_48K: u64 = 10 * 3600 * 48_000;

#[test]
fn bext_time_reference_is_read_and_agrees_with_ffprobe() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.wav");
    // 23:00 at 96 kHz is above 2^32 samples: the high word counts.
    let tr = 23 * 3600 * 96_000 + 12_345;
    assert!(tr > u64::from(u32::MAX));
    write_bwf(&p, 96_000, Some(tr), None, 4800);
    let pos = bwf::position(&p).unwrap().unwrap();
    assert_eq!(pos.samples, tr);
    assert_eq!(pos.sample_rate, 96_000);
    assert_eq!(pos.source, Source::Bext);
    assert!((pos.seconds() - (82_800.0 + 12_345.0 / 96_000.0)).abs() < 1e-9);

    // The file is a real WAV: hound plays it, and ffprobe (an independent reader of
    // bext) finds the same TimeReference.
    let r = hound::WavReader::open(&p).unwrap();
    assert_eq!(r.duration(), 4800);
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format_tags=time_reference"])
        .args(["-of", "default=nw=1:nk=1"])
        .arg(&p)
        .output()
        .expect("ffprobe runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.trim(), tr.to_string(), "ffprobe said {text:?}");
}

#[test]
fn ixml_positions_are_read_when_there_is_no_bext() {
    let dir = tempfile::tempdir().unwrap();
    // SPEED with its own timestamp rate (a 48 kHz timestamp in a 96 kHz file).
    let speed = dir.path().join("speed.wav");
    let ixml = "<?xml version=\"1.0\"?><BWFXML><IXML_VERSION>2.10</IXML_VERSION><SPEED>\
        <TIMESTAMP_SAMPLE_RATE>48000</TIMESTAMP_SAMPLE_RATE>\
        <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>0</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>\
        <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>96000</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>\
        </SPEED></BWFXML>";
    write_bwf(&speed, 96_000, None, Some(ixml), 10);
    let pos = bwf::position(&speed).unwrap().unwrap();
    assert_eq!(pos.source, Source::Ixml);
    assert_eq!((pos.samples, pos.sample_rate), (96_000, 48_000));
    assert_eq!(pos.seconds(), 2.0);

    // iXML's copy of the bext fields, at the file's rate.
    let copy = dir.path().join("copy.wav");
    let ixml = "<BWFXML><BEXT><BWF_TIME_REFERENCE_LOW>44100</BWF_TIME_REFERENCE_LOW>\
        <BWF_TIME_REFERENCE_HIGH>1</BWF_TIME_REFERENCE_HIGH></BEXT></BWFXML>";
    write_bwf(&copy, 44_100, None, Some(ixml), 10);
    let pos = bwf::position(&copy).unwrap().unwrap();
    assert_eq!(pos.samples, (1u64 << 32) + 44_100);
    assert_eq!(pos.sample_rate, 44_100);

    // bext wins over iXML when both are there.
    let both = dir.path().join("both.wav");
    write_bwf(&both, 48_000, Some(480), Some(ixml), 10);
    assert_eq!(bwf::position(&both).unwrap().unwrap().source, Source::Bext);
}

#[test]
fn files_without_a_position_have_none() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.wav");
    common::write_wav(&plain, 48_000, 0.01);
    assert_eq!(bwf::position(&plain).unwrap(), None);
    // A bext left at 0 by a writer without timecode.
    let zero = dir.path().join("zero.wav");
    write_bwf(&zero, 48_000, Some(0), None, 10);
    assert_eq!(bwf::position(&zero).unwrap(), None);
    // Not a WAV file at all, and a file cut short inside its header.
    let text = dir.path().join("notes.wav");
    std::fs::write(&text, "not audio").unwrap();
    assert_eq!(bwf::position(&text).unwrap(), None);
    // A missing file is an error naming it.
    let missing = dir.path().join("missing.wav");
    let err = bwf::position(&missing).unwrap_err().to_string();
    assert!(err.contains("missing.wav"), "{err}");
}

#[test]
fn a_folder_is_placed_relative_to_its_earliest_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.wav"); // 10:00:01.5
    let b = dir.path().join("b.wav"); // 10:00:00 — the earliest
    let c = dir.path().join("c.wav"); // 10:00:00.25, in iXML only, at 96 kHz
    let d = dir.path().join("d.wav"); // no position
    write_bwf(&a, 48_000, Some(TEN_AM_48K + 72_000), None, 100);
    write_bwf(&b, 48_000, Some(TEN_AM_48K), None, 100);
    let ixml = format!(
        "<BWFXML><SPEED><TIMESTAMP_SAMPLE_RATE>96000</TIMESTAMP_SAMPLE_RATE>\
         <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>0</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>\
         <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>{}</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>\
         </SPEED></BWFXML>",
        10u64 * 3600 * 96_000 + 24_000
    );
    write_bwf(&c, 96_000, None, Some(&ixml), 100);
    common::write_wav(&d, 48_000, 0.01);
    let pos = bwf::folder_positions(&[&a, &b, &c, &d]);
    assert_eq!(pos, vec![1.5, 0.0, 0.25, 0.0]);
    // Exact to the sample at 48 kHz.
    assert_eq!(pos[0] * 48_000.0, 72_000.0);

    // None of them with a position: all at 0.
    assert_eq!(bwf::folder_positions(&[&d, &d]), vec![0.0, 0.0]);
}
