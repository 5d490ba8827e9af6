//! Test helpers: audio files written for the readers to find, Broadcast Wave files laid
//! out by hand from EBU Tech 3285, DAWproject archives zipped from a hand-written
//! project.xml.
#![allow(dead_code)]
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// A stereo 16-bit WAV of `secs` seconds (a quiet ramp, so the bytes are not all zero).
pub fn write_wav(path: &Path, rate: u32, secs: f64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(secs * f64::from(rate)) as i64 {
        let v = (i % 200) as i16 * 10;
        w.write_sample(v).unwrap();
        w.write_sample(-v).unwrap();
    }
    w.finalize().unwrap();
}

fn chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
}

/// A Broadcast Wave file: `fmt `, then (when given) a version 2 `bext` chunk with this
/// TimeReference and an `iXML` chunk, then `data` with `frames` frames of 16-bit stereo.
pub fn write_bwf(
    path: &Path,
    rate: u32,
    time_reference: Option<u64>,
    ixml: Option<&str>,
    frames: u32,
) {
    let mut body = Vec::new();
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&1u16.to_le_bytes()); // PCM
    fmt.extend_from_slice(&2u16.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&(rate * 4).to_le_bytes());
    fmt.extend_from_slice(&4u16.to_le_bytes());
    fmt.extend_from_slice(&16u16.to_le_bytes());
    chunk(&mut body, b"fmt ", &fmt);
    if let Some(tr) = time_reference {
        // EBU Tech 3285 v2: Description 256, Originator 32, OriginatorReference 32,
        // OriginationDate 10, OriginationTime 8, TimeReferenceLow 4, TimeReferenceHigh 4,
        // Version 2, UMID 64, five loudness values 2 each, Reserved 180, CodingHistory.
        let mut bext = Vec::new();
        let mut field = |text: &[u8], len: usize| {
            let mut f = text.to_vec();
            f.resize(len, 0);
            bext.extend_from_slice(&f);
        };
        field(b"Take 1, hand-written", 256);
        field(b"Stemdeck test", 32);
        field(b"USID0000", 32);
        field(b"2026-12-02", 10);
        field(b"10:00:00", 8);
        bext.extend_from_slice(&((tr & 0xFFFF_FFFF) as u32).to_le_bytes());
        bext.extend_from_slice(&((tr >> 32) as u32).to_le_bytes());
        bext.extend_from_slice(&2u16.to_le_bytes());
        bext.extend_from_slice(&[0u8; 64]);
        bext.extend_from_slice(&[0u8; 10]);
        bext.extend_from_slice(&[0u8; 180]);
        assert_eq!(bext.len(), 602);
        // An even length: hound skips unknown chunks without their pad byte.
        bext.extend_from_slice(b"A=PCM,F=48000,W=16,M=stereo,\r\n");
        chunk(&mut body, b"bext", &bext);
    }
    if let Some(x) = ixml {
        chunk(&mut body, b"iXML", x.as_bytes());
    }
    let data: Vec<u8> = (0..frames * 2)
        .flat_map(|i| ((i % 100) as i16 * 50).to_le_bytes())
        .collect();
    chunk(&mut body, b"data", &data);
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
    file.extend_from_slice(b"WAVE");
    file.extend_from_slice(&body);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, file).unwrap();
}

/// A `.dawproject` archive: project.xml, an optional metadata.xml, and embedded files
/// (name in the archive, bytes).
pub fn write_dawproject(
    path: &Path,
    project_xml: &str,
    metadata_xml: Option<&str>,
    embedded: &[(&str, Vec<u8>)],
) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(file);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("project.xml", deflated).unwrap();
    zip.write_all(project_xml.as_bytes()).unwrap();
    if let Some(m) = metadata_xml {
        zip.start_file("metadata.xml", deflated).unwrap();
        zip.write_all(m.as_bytes()).unwrap();
    }
    for (name, bytes) in embedded {
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file(*name, stored).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

pub fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

/// The audio files both song fixtures refer to, under `dir/audio`.
pub fn write_song_audio(dir: &Path) {
    for name in ["kick", "snare", "bass", "piano", "vox"] {
        write_wav(&dir.join(format!("audio/{name}.wav")), 48000, 0.25);
    }
}

pub fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}
