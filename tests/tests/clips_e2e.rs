//! Real sessions in, through the binary: a folder of Broadcast Wave files recorded at
//! different times exports with every file at its timestamp (checked against ffmpeg's
//! adelay placing the same files), and a DAWproject and a REAPER project of the same song
//! export the same stems, named after their folders, with the clips where ffmpeg's
//! atrim/afade/adelay put them.
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use stemdeck_e2e::*;

const RATE: u32 = 48_000;

/// A 16-bit mono WAV with a `bext` chunk whose TimeReference is `time_reference`
/// (EBU Tech 3285: after Description 256, Originator 32, OriginatorReference 32,
/// OriginationDate 10 and OriginationTime 8 bytes), or none.
fn write_bwf(path: &Path, samples: &[i16], time_reference: Option<u64>) {
    let mut chunks = Vec::new();
    let mut chunk = |id: &[u8; 4], body: &[u8]| {
        chunks.extend_from_slice(id);
        chunks.extend_from_slice(&(body.len() as u32).to_le_bytes());
        chunks.extend_from_slice(body);
        if body.len() % 2 == 1 {
            chunks.push(0);
        }
    };
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&1u16.to_le_bytes()); // PCM
    fmt.extend_from_slice(&1u16.to_le_bytes()); // mono
    fmt.extend_from_slice(&RATE.to_le_bytes());
    fmt.extend_from_slice(&(RATE * 2).to_le_bytes());
    fmt.extend_from_slice(&2u16.to_le_bytes());
    fmt.extend_from_slice(&16u16.to_le_bytes());
    chunk(b"fmt ", &fmt);
    if let Some(tr) = time_reference {
        let mut bext = vec![0u8; 602];
        bext[..12].copy_from_slice(b"test session");
        bext[338..346].copy_from_slice(&tr.to_le_bytes());
        bext[346..348].copy_from_slice(&1u16.to_le_bytes()); // version 1
        chunk(b"bext", &bext);
    }
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    chunk(b"data", &data);
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&((chunks.len() + 4) as u32).to_le_bytes());
    file.extend_from_slice(b"WAVE");
    file.extend_from_slice(&chunks);
    std::fs::write(path, file).unwrap();
}

fn tone(len: usize, freq: f64, amp: f64) -> Vec<i16> {
    (0..len)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            let env = (i as f64 / len as f64 * std::f64::consts::PI).sin();
            (amp * env * (t * freq * std::f64::consts::TAU).sin() * 32767.0).round() as i16
        })
        .collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn a_folder_of_broadcast_wave_files_exports_every_file_at_its_timestamp() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("Take 3");
    std::fs::create_dir(&dir).unwrap();
    // 10:00:00 at 48 kHz, and files started 0.5 s, 0 s and 2.25 s after it; the guitar
    // has no timestamp (placed at 0).
    let t0 = 10 * 3600 * u64::from(RATE);
    let files = [
        (
            "kick.wav",
            Some(t0 + 24_000),
            tone(48_000, 60.0, 0.8),
            24_000u64,
        ),
        ("bass.wav", Some(t0), tone(96_000, 110.0, 0.6), 0),
        (
            "lead vox.wav",
            Some(t0 + 108_000),
            tone(40_000, 440.0, 0.5),
            108_000,
        ),
        ("gtr.wav", None, tone(30_000, 330.0, 0.4), 0),
    ];
    for (name, tr, samples, _) in &files {
        write_bwf(&dir.join(name), samples, *tr);
    }

    let info = run_ok(stemdeck().arg("info").arg(&dir));
    let line = |name: &str| {
        info.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not in:\n{info}"))
            .to_owned()
    };
    assert!(line("kick").contains("at 0:00.500 (24000)"), "{info}");
    assert!(line("lead vox").contains("at 0:02.250 (108000)"), "{info}");
    assert!(line("bass").contains("at 0:00.000 (0)"), "{info}");
    let grouped = run_ok(stemdeck().arg("group").arg(&dir));
    assert!(grouped.contains("at 0:00.500 (24000)"), "{grouped}");

    let out = tmp.path().join("out");
    run_ok(
        stemdeck()
            .arg("export")
            .arg(&dir)
            .args(["--format", "wav32f", "--out"])
            .arg(&out),
    );
    // Every stem one length: the end of the latest file (2.25 s + 40000 frames).
    let total = 108_000 + 40_000;
    let stem = |name: &str| {
        let hit = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains(&format!("- {name}.wav")))
            .unwrap_or_else(|| panic!("no {name} stem in {}", out.display()));
        read_wav(&hit)
    };
    for (stem_name, file, position) in [
        ("Drums", "kick.wav", 24_000u64),
        ("Bass", "bass.wav", 0),
        ("Vocals", "lead vox.wav", 108_000),
        ("Instruments", "gtr.wav", 0),
    ] {
        let got = stem(stem_name);
        assert_eq!(got.frames(), total, "{stem_name}");
        let want = ffmpeg_decode(
            &dir.join(file),
            1,
            Some(&format!(
                "adelay=delays={position}S:all=1,apad=whole_len={total}"
            )),
        );
        // A mono track at the centre: the same in both channels, at unity.
        for c in 0..2 {
            let d = max_diff(&got.channels[c], &want[0][..total]);
            assert!(
                d < 1e-7,
                "{stem_name} channel {c}: {d} off ffmpeg's placement"
            );
        }
        // Silence before the file starts, to the sample, and sound from there on.
        let p = position as usize;
        assert!(
            got.channels[0][..p].iter().all(|&s| s == 0.0),
            "{stem_name}"
        );
        assert!(
            got.channels[0][p..p + 2000].iter().any(|&s| s != 0.0),
            "{stem_name}"
        );
    }
}

/// The song as a REAPER project and as a DAWproject (the same as
/// crates/project/tests/fixtures, reduced): folder "Rhythm" (Kick, Bass), folder "Keys"
/// (Piano), and a loose "Lead Vox" track that is auto-grouped. Positions in seconds in
/// REAPER, in beats at 120 bpm in the DAWproject.
fn write_projects(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir.join("audio")).unwrap();
    let stereo = |name: &str, f: f64| {
        let l = tone(4 * RATE as usize, f, 0.5);
        let r = tone(4 * RATE as usize, f * 1.5, 0.4);
        let chans: Vec<Vec<f32>> = [l, r]
            .iter()
            .map(|c| c.iter().map(|&s| f32::from(s) / 32768.0).collect())
            .collect();
        write_wav_f32(&dir.join("audio").join(name), RATE, &chans);
    };
    stereo("kick.wav", 55.0);
    stereo("bass.wav", 98.0);
    stereo("piano.wav", 262.0);
    stereo("vox.wav", 392.0);
    let rpp = dir.join("song.rpp");
    let item = |pos: f64, len: f64, soffs: f64, fin: f64, fout: f64, file: &str| {
        format!(
            "    <ITEM\n      POSITION {pos}\n      LENGTH {len}\n      FADEIN 1 {fin} 0 1 0 0 0\n      FADEOUT 1 {fout} 0 1 0 0 0\n      MUTE 0 0\n      VOLPAN 1 0 1 -1\n      SOFFS {soffs}\n      PLAYRATE 1 1 0 -1 0 0.0025\n      <SOURCE WAVE\n        FILE \"audio/{file}\"\n      >\n    >\n"
        )
    };
    let track = |name: &str, isbus: &str, items: String| {
        format!(
            "  <TRACK\n    NAME \"{name}\"\n    VOLPAN 1 0 -1 -1 1\n    MUTESOLO 0 0 0\n    ISBUS {isbus}\n{items}  >\n"
        )
    };
    let mut text = String::from(
        "<REAPER_PROJECT 0.1 \"7.22/linux-x86_64\" 1733130000\n  TEMPO 120 4 4\n  SAMPLERATE 48000 0 0\n",
    );
    text += &track("Rhythm", "1 1", String::new());
    text += &track("Kick", "0 0", item(0.0, 4.0, 0.0, 0.0, 0.0, "kick.wav"));
    text += &track("Bass", "2 -1", item(1.0, 2.5, 0.5, 0.1, 0.25, "bass.wav"));
    text += &track("Keys", "1 1", String::new());
    text += &track("Piano", "2 -1", item(2.0, 3.0, 1.0, 0.0, 0.5, "piano.wav"));
    text += &track(
        "Lead Vox",
        "0 0",
        item(0.75, 3.0, 0.0, 0.02, 0.0, "vox.wav"),
    );
    text += ">\n";
    std::fs::write(&rpp, text).unwrap();

    let clip = |beats: f64, dur: f64, start: f64, fin: f64, fout: f64, file: &str| {
        format!(
            r#"<Clip time="{beats}" duration="{dur}" contentTimeUnit="seconds" playStart="{start}" fadeTimeUnit="seconds" fadeInTime="{fin}" fadeOutTime="{fout}"><Audio channels="2" duration="4" sampleRate="48000" id="a_{file}"><File path="audio/{file}" external="true"/></Audio></Clip>"#
        )
    };
    let channel = |id: &str, dest: &str, role: &str| {
        format!(
            r#"<Channel audioChannels="2" destination="{dest}" role="{role}" solo="false" id="{id}"><Mute value="false" id="{id}_m"/><Pan unit="normalized" value="0.5" id="{id}_p"/><Volume unit="linear" value="1" id="{id}_v"/></Channel>"#
        )
    };
    let audio = |id: &str, name: &str, dest: &str| {
        format!(
            r#"<Track contentType="audio" loaded="true" id="{id}" name="{name}">{}</Track>"#,
            channel(&format!("c_{id}"), dest, "regular")
        )
    };
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Project version="1.0"><Application name="Hand" version="1.0"/>
<Transport><Tempo unit="bpm" value="120" id="tempo"/></Transport>
<Structure>
<Track contentType="audio tracks" loaded="true" id="t_master" name="Master">{master}</Track>
<Track contentType="tracks" loaded="true" id="t_rhythm" name="Rhythm">{rhythm}{kick}{bass}</Track>
<Track contentType="tracks" loaded="true" id="t_keys" name="Keys">{keys}{piano}</Track>
{vox}
</Structure>
<Arrangement id="arr"><Lanes timeUnit="beats" id="lanes">
<Clips track="t_kick" id="ck">{c_kick}</Clips>
<Clips track="t_bass" id="cb">{c_bass}</Clips>
<Clips track="t_piano" id="cp">{c_piano}</Clips>
<Clips track="t_vox" id="cv">{c_vox}</Clips>
</Lanes></Arrangement></Project>
"#,
        master = channel("c_master", "", "master").replace(r#" destination="""#, ""),
        rhythm = channel("c_rhythm", "c_master", "submix"),
        kick = audio("t_kick", "Kick", "c_rhythm"),
        bass = audio("t_bass", "Bass", "c_rhythm"),
        keys = channel("c_keys", "c_master", "submix"),
        piano = audio("t_piano", "Piano", "c_keys"),
        vox = audio("t_vox", "Lead Vox", "c_master"),
        c_kick = clip(0.0, 8.0, 0.0, 0.0, 0.0, "kick.wav"),
        c_bass = clip(2.0, 5.0, 0.5, 0.1, 0.25, "bass.wav"),
        c_piano = clip(4.0, 6.0, 1.0, 0.0, 0.5, "piano.wav"),
        c_vox = clip(1.5, 6.0, 0.0, 0.02, 0.0, "vox.wav"),
    );
    std::fs::write(dir.join("project.xml"), &xml).unwrap();
    std::fs::write(
        dir.join("metadata.xml"),
        r#"<?xml version="1.0" encoding="UTF-8"?><MetaData><Title>Song</Title></MetaData>"#,
    )
    .unwrap();
    let dawproject = dir.join("song.dawproject");
    let zipped = run(std::process::Command::new("python3").args([
        "-c",
        "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n  z.write(sys.argv[2], 'project.xml')\n  z.write(sys.argv[3], 'metadata.xml')",
    ])
    .arg(&dawproject)
    .arg(dir.join("project.xml"))
    .arg(dir.join("metadata.xml")));
    assert!(zipped.status.success(), "python3 zipfile: {zipped:?}");
    (rpp, dawproject)
}

fn stems_of(out: &Path) -> Vec<(String, Wav)> {
    let mut v: Vec<(String, Wav)> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                read_wav(&p),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn a_dawproject_and_a_reaper_project_of_one_song_export_the_same_stems() {
    let tmp = tempfile::tempdir().unwrap();
    let (rpp, dawproject) = write_projects(tmp.path());
    let mut exports = Vec::new();
    for (project, out) in [(&rpp, "out-rpp"), (&dawproject, "out-dawproject")] {
        let out = tmp.path().join(out);
        let group = run_ok(stemdeck().arg("group").arg(project));
        assert!(
            group.contains("Rhythm (2 tracks)") && group.contains("Keys (1 tracks)"),
            "{group}"
        );
        run_ok(
            stemdeck()
                .arg("export")
                .arg(project)
                .args(["--format", "wav32f", "--out"])
                .arg(&out),
        );
        exports.push(stems_of(&out));
    }
    let names = |e: &[(String, Wav)]| e.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    // Named after the project's folders, the loose vocal auto-grouped.
    let rpp_names = names(&exports[0]);
    for stem in ["Rhythm", "Keys", "Vocals"] {
        assert!(
            rpp_names
                .iter()
                .any(|n| n.contains(&format!("- {stem}.wav"))),
            "{rpp_names:?}"
        );
    }
    assert_eq!(names(&exports[0]).len(), names(&exports[1]).len());
    for ((na, a), (_, b)) in exports[0].iter().zip(&exports[1]) {
        let stem = na.rsplit(" - ").next().unwrap();
        assert!(exports[1].iter().any(|(n, _)| n.ends_with(stem)), "{stem}");
        for c in 0..2 {
            let d = max_diff(&a.channels[c], &b.channels[c]);
            assert!(d < 1e-6, "{na} channel {c}: the two projects differ by {d}");
        }
    }

    // The Rhythm stem against ffmpeg placing the same clips: the kick from 0 for 4 s;
    // the bass at 1 s from 0.5 s into its file for 2.5 s, fading in 0.1 s and out 0.25 s.
    let (_, rhythm) = exports[0]
        .iter()
        .find(|(n, _)| n.contains("- Rhythm.wav"))
        .unwrap();
    let total = rhythm.frames();
    let place = |file: &str, af: String| {
        ffmpeg_decode(
            &tmp.path().join("audio").join(file),
            2,
            Some(&format!("{af},apad=whole_len={total}")),
        )
    };
    let kick = place("kick.wav", "atrim=end_sample=192000".into());
    let bass = place(
        "bass.wav",
        "atrim=start_sample=24000:end_sample=144000,asetpts=N/SR/TB,afade=t=in:ss=0:ns=4800,afade=t=out:ss=108000:ns=12000,adelay=delays=48000S:all=1".into(),
    );
    for c in 0..2 {
        let want: Vec<f32> = kick[c][..total]
            .iter()
            .zip(&bass[c][..total])
            .map(|(a, b)| a + b)
            .collect();
        let d = max_diff(&rhythm.channels[c], &want);
        assert!(d < 1e-6, "Rhythm channel {c}: {d} off ffmpeg's placement");
    }
}
