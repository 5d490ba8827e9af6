//! DAWproject and REAPER projects written by hand from their specifications: every field
//! read, the same song giving the same tracks from both, the warnings, and the errors.
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{approx, fixture, write_dawproject, write_song_audio};
use stemdeck_project::{Clip, Project, open};
use stemdeck_session::effects::{BandShape, EffectKind};

fn song_rpp(dir: &Path) -> Project {
    write_song_audio(dir);
    let p = dir.join("song.rpp");
    std::fs::write(&p, fixture("song.rpp")).unwrap();
    open(&p, &dir.join("cache")).unwrap()
}

fn song_dawproject(dir: &Path) -> Project {
    write_song_audio(dir);
    let kick = std::fs::read(dir.join("audio/kick.wav")).unwrap();
    let p = dir.join("song.dawproject");
    let meta = "<?xml version=\"1.0\"?><MetaData><Title>Hand Song</Title></MetaData>";
    write_dawproject(
        &p,
        &fixture("song-project.xml"),
        Some(meta),
        &[("audio/kick.wav", kick)],
    );
    open(&p, &dir.join("cache")).unwrap()
}

fn clip(p: &Project, track: &str) -> Clip {
    let t = p.tracks.iter().find(|t| t.name == track).unwrap();
    assert_eq!(t.clips.len(), 1, "{track}: {:?}", t.clips);
    t.clips[0].clone()
}

#[test]
fn a_reaper_project_is_read_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = song_rpp(dir.path());
    assert_eq!(p.name, "song");
    assert_eq!(p.sample_rate, Some(48_000));
    assert_eq!(p.tempo_bpm, Some(120.0));
    assert!((p.master.gain_db + 3.0).abs() < 1e-4);
    let names: Vec<_> = p.tracks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Kick", "Snare", "Bass", "Piano", "Vox"]);
    let folders: Vec<_> = p.folders.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(folders, ["Drums", "Music"]);
    assert!((p.folders[0].gain_db + 6.0206).abs() < 1e-3);

    let snare = clip(&p, "Snare");
    assert_eq!(snare.path, dir.path().join("audio/snare.wav"));
    assert!(approx(snare.position_s, 2.0));
    assert!(approx(snare.source_offset_s, 0.5));
    assert!(approx(snare.length_s, 2.0));
    assert!(approx(snare.fade_in_s, 0.1));
    assert!(approx(snare.fade_out_s, 0.2));
    assert_eq!(snare.gain_db, 0.0);

    let bass = p.tracks.iter().find(|t| t.name == "Bass").unwrap();
    assert_eq!(bass.folder.as_deref(), Some("Music"));
    assert!((bass.gain_db + 6.0).abs() < 1e-4);
    assert_eq!(bass.pan, -0.5);
    // Piano sits in "Keys bus" inside "Music": the nested bus's −3 dB folds in.
    let piano = p.tracks.iter().find(|t| t.name == "Piano").unwrap();
    assert_eq!(piano.folder.as_deref(), Some("Music"));
    assert!((piano.gain_db + 3.0).abs() < 1e-4);
    let vox = p.tracks.iter().find(|t| t.name == "Vox").unwrap();
    assert_eq!(vox.folder, None);
    assert!(vox.mute);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn a_dawproject_is_read_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = song_dawproject(dir.path());
    assert_eq!(p.name, "Hand Song");
    assert_eq!(p.tempo_bpm, Some(120.0));
    assert!((p.master.gain_db + 3.0).abs() < 1e-6);
    // Positions in beats at 120 bpm.
    let piano = clip(&p, "Piano");
    assert!(approx(piano.position_s, 4.0));
    assert!(approx(piano.length_s, 2.0));
    assert!(approx(piano.source_offset_s, 1.0));
    assert!(approx(piano.fade_out_s, 0.5)); // one beat
    // The kick is embedded: extracted to the cache, byte for byte.
    let kick = clip(&p, "Kick");
    assert!(
        kick.path.starts_with(dir.path().join("cache")),
        "{:?}",
        kick.path
    );
    assert_eq!(
        std::fs::read(&kick.path).unwrap(),
        std::fs::read(dir.path().join("audio/kick.wav")).unwrap()
    );
    // Opening again finds it there.
    let again = song_dawproject(dir.path());
    assert_eq!(clip(&again, "Kick").path, kick.path);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn a_dawproject_and_a_reaper_project_of_the_same_song_agree() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let rpp = song_rpp(a.path());
    let daw = song_dawproject(b.path());
    assert_eq!(rpp.tracks.len(), daw.tracks.len());
    for (r, d) in rpp.tracks.iter().zip(&daw.tracks) {
        assert_eq!(r.name, d.name);
        assert_eq!(r.folder, d.folder, "{}", r.name);
        assert!(
            (r.gain_db - d.gain_db).abs() < 1e-4,
            "{}: {} {}",
            r.name,
            r.gain_db,
            d.gain_db
        );
        assert!((r.pan - d.pan).abs() < 1e-6, "{}", r.name);
        assert_eq!(r.mute, d.mute, "{}", r.name);
        assert_eq!(r.clips.len(), d.clips.len());
        for (rc, dc) in r.clips.iter().zip(&d.clips) {
            assert_eq!(rc.path.file_name(), dc.path.file_name());
            assert!(
                approx(rc.position_s, dc.position_s),
                "{} {rc:?} {dc:?}",
                r.name
            );
            assert!(approx(rc.source_offset_s, dc.source_offset_s), "{}", r.name);
            assert!(approx(rc.length_s, dc.length_s), "{}", r.name);
            assert!(approx(rc.fade_in_s, dc.fade_in_s), "{}", r.name);
            assert!(approx(rc.fade_out_s, dc.fade_out_s), "{}", r.name);
            assert_eq!(rc.gain_db, dc.gain_db);
        }
    }
    let names = |p: &Project| {
        p.folders
            .iter()
            .map(|f| (f.name.clone(), f.mute))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&rpp), names(&daw));
    for (r, d) in rpp.folders.iter().zip(&daw.folders) {
        assert!((r.gain_db - d.gain_db).abs() < 1e-4);
    }
}

/// A DAWproject around one track and its arrangement lanes.
fn one_track(channel_extra: &str, lanes: &str, transport_tempo: f64, tempo_lane: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Project version="1.0">
  <Application name="Hand" version="1"/>
  <Transport><Tempo unit="bpm" value="{transport_tempo}" id="tempo"/></Transport>
  <Structure>
    <Track contentType="audio" id="t1" name="Gtr">
      <Channel role="regular" id="c1">{channel_extra}
        <Volume unit="linear" value="1" id="c1_vol" name="Volume"/>
      </Channel>
    </Track>
    <Track contentType="audio" id="t2" name="Verb">
      <Channel role="effect" id="c2"/>
    </Track>
  </Structure>
  <Arrangement id="arr">
    <Lanes timeUnit="beats" id="l0">{lanes}</Lanes>{tempo_lane}
  </Arrangement>
</Project>"#
    )
}

fn audio_clip(attrs: &str) -> String {
    format!(
        r#"<Clip {attrs}><Audio channels="2" duration="10" sampleRate="48000"><File path="gtr.wav" external="true"/></Audio></Clip>"#
    )
}

fn read_xml(xml: &str) -> Project {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.dawproject");
    write_dawproject(&p, xml, None, &[]);
    open(&p, &dir.path().join("cache")).unwrap()
}

#[test]
fn tempo_changes_are_followed() {
    // Held: 120 bpm for 8 beats (4 s), then 60 bpm: beat 12 is at 4 + 4 = 8 s.
    let lanes = format!(
        r#"<Clips track="t1">{}</Clips>"#,
        audio_clip(r#"time="12" duration="2" contentTimeUnit="seconds""#)
    );
    let held = r#"<TempoAutomation unit="bpm"><Target parameter="tempo"/>
        <RealPoint time="0" value="120" interpolation="hold"/>
        <RealPoint time="8" value="60" interpolation="hold"/></TempoAutomation>"#;
    let p = read_xml(&one_track("", &lanes, 90.0, held));
    let c = &p.tracks[0].clips[0];
    assert!(approx(c.position_s, 8.0), "{c:?}");
    assert!(approx(c.length_s, 2.0), "{c:?}");
    assert_eq!(p.tempo_bpm, Some(120.0));

    // A linear ramp 100 → 140 bpm over 8 beats: beat 8 is at 60/5·ln(1.4) s.
    let lanes = format!(
        r#"<Clips track="t1">{}</Clips>"#,
        audio_clip(r#"time="8" duration="1" contentTimeUnit="seconds""#)
    );
    let ramp = r#"<TempoAutomation unit="bpm"><Target parameter="tempo"/>
        <RealPoint time="0" value="100" interpolation="linear"/>
        <RealPoint time="8" value="140" interpolation="hold"/></TempoAutomation>"#;
    let p = read_xml(&one_track("", &lanes, 100.0, ramp));
    let c = &p.tracks[0].clips[0];
    let expected = 12.0 * 1.4f64.ln();
    assert!(
        approx(c.position_s, expected),
        "{} {expected}",
        c.position_s
    );
    // One beat at 140 bpm.
    assert!(approx(c.length_s, 60.0 / 140.0), "{c:?}");

    // Without a lane, the transport's tempo.
    let lanes = format!(
        r#"<Clips track="t1">{}</Clips>"#,
        audio_clip(r#"time="3" duration="1""#)
    );
    let p = read_xml(&one_track("", &lanes, 90.0, ""));
    assert!(approx(p.tracks[0].clips[0].position_s, 2.0));
}

#[test]
fn looped_clips_become_one_clip_per_pass() {
    let lanes = format!(
        r#"<Lanes track="t1" timeUnit="seconds"><Clips>{}</Clips></Lanes>"#,
        audio_clip(
            r#"time="0" duration="10" contentTimeUnit="seconds" playStart="0" loopStart="1" loopEnd="3" fadeTimeUnit="seconds" fadeInTime="0.01" fadeOutTime="0.5""#
        )
    );
    let p = read_xml(&one_track("", &lanes, 120.0, ""));
    let got: Vec<(f64, f64, f64)> = p.tracks[0]
        .clips
        .iter()
        .map(|c| (c.position_s, c.source_offset_s, c.length_s))
        .collect();
    assert_eq!(
        got,
        [
            (0.0, 0.0, 3.0),
            (3.0, 1.0, 2.0),
            (5.0, 1.0, 2.0),
            (7.0, 1.0, 2.0),
            (9.0, 1.0, 1.0)
        ]
    );
    assert_eq!(p.tracks[0].clips[0].fade_in_s, 0.01);
    assert_eq!(p.tracks[0].clips[4].fade_out_s, 0.5);
    assert_eq!(p.tracks[0].clips[1].fade_out_s, 0.0);
}

#[test]
fn warps_that_match_the_tempo_are_not_stretching() {
    // At 120 bpm, 8 beats are 4 s of audio: unstretched. The clip starts 2 beats in.
    let warps = |seconds_at_8: f64| {
        format!(
            r#"<Clips track="t1"><Clip time="4" duration="6" contentTimeUnit="beats" playStart="2">
              <Warps contentTimeUnit="seconds"><Audio channels="2" duration="10" sampleRate="48000"><File path="gtr.wav" external="true"/></Audio>
              <Warp time="0" contentTime="0.25"/><Warp time="8" contentTime="{seconds_at_8}"/></Warps></Clip></Clips>"#
        )
    };
    let p = read_xml(&one_track("", &warps(4.25), 120.0, ""));
    let c = &p.tracks[0].clips[0];
    assert!(approx(c.position_s, 2.0));
    assert!(approx(c.source_offset_s, 1.25), "{c:?}");
    assert!(approx(c.length_s, 3.0));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    let p = read_xml(&one_track("", &warps(5.0), 120.0, ""));
    assert_eq!(
        p.warnings,
        ["Track \"Gtr\": clip at 2.000 s is time-stretched (warped): placed unstretched"]
    );
    assert_eq!(p.tracks[0].clips.len(), 1, "the rest still loads");
}

#[test]
fn built_in_devices_become_effects_and_the_rest_is_named() {
    let devices = r#"<Devices>
      <Equalizer deviceName="EQ+" deviceRole="audioFX" id="eq">
        <Band type="highPass" order="2"><Freq unit="hertz" value="80"/><Q unit="linear" value="0.7"/></Band>
        <Band type="bell"><Freq unit="hertz" value="2500"/><Gain unit="decibel" value="-3.5"/><Q unit="linear" value="1.4"/></Band>
        <Band type="notch"><Freq unit="hertz" value="60"/></Band>
        <Band type="lowShelf"><Freq unit="hertz" value="200"/><Gain unit="decibel" value="2"/><Q unit="linear" value="0.7"/><Enabled value="false"/></Band>
      </Equalizer>
      <Compressor deviceName="Comp" deviceRole="audioFX">
        <Attack unit="seconds" value="0.01"/><Ratio unit="linear" value="4"/>
        <Release unit="seconds" value="0.12"/><Threshold unit="decibel" value="-20"/>
        <OutputGain unit="decibel" value="2"/><Enabled value="false"/>
      </Compressor>
      <Limiter deviceName="Lim" deviceRole="audioFX">
        <Attack unit="seconds" value="0.005"/><Release unit="seconds" value="0.08"/><Threshold unit="decibel" value="-1"/>
      </Limiter>
      <Vst3Plugin deviceName="Shiny Reverb" deviceRole="audioFX"><State path="plugins/1.vstpreset"/></Vst3Plugin>
      <ClapPlugin deviceName="Off Plugin" deviceRole="audioFX"><Enabled value="false"/></ClapPlugin>
      </Devices>
      <Sends><Send destination="c2" type="post"><Volume unit="linear" value="0.5"/></Send></Sends>"#;
    let lanes = format!(
        r#"<Clips track="t1">{}<Clip time="8" duration="4"><Notes><Note time="0" duration="1" channel="0" key="60"/></Notes></Clip></Clips>
        <Points track="t1"><Target parameter="c1_vol"/><RealPoint time="0" value="0.5"/></Points>"#,
        audio_clip(r#"time="0" duration="4""#)
    );
    let p = read_xml(&one_track(devices, &lanes, 120.0, ""));
    let fx = &p.tracks[0].effects;
    assert_eq!(fx.len(), 3);
    let EffectKind::Eq(eq) = &fx[0].kind else {
        panic!("{fx:?}")
    };
    assert_eq!(eq.bands.len(), 2);
    assert_eq!(eq.bands[0].shape, BandShape::Highpass);
    assert_eq!((eq.bands[0].freq_hz, eq.bands[0].q), (80.0, 0.7));
    assert_eq!(eq.bands[1].shape, BandShape::Peak);
    assert_eq!(
        (eq.bands[1].freq_hz, eq.bands[1].gain_db, eq.bands[1].q),
        (2500.0, -3.5, 1.4)
    );
    let EffectKind::Compressor(c) = fx[1].kind else {
        panic!()
    };
    assert!(fx[1].bypass);
    assert_eq!((c.threshold_db, c.ratio, c.makeup_db), (-20.0, 4.0, 2.0));
    assert!((c.attack_ms - 10.0).abs() < 1e-4 && (c.release_ms - 120.0).abs() < 1e-3);
    let EffectKind::Limiter(l) = fx[2].kind else {
        panic!()
    };
    assert_eq!(l.ceiling_db, -1.0);
    assert!((l.lookahead_ms - 5.0).abs() < 1e-4 && (l.release_ms - 80.0).abs() < 1e-3);
    assert!(fx.iter().all(|e| e.problem().is_none()));

    assert_eq!(
        p.warnings,
        [
            "Track \"Gtr\": clip at 4.000 s holds MIDI notes: not rendered",
            "Track \"Gtr\": automation of Volume is not rendered",
            "Track \"Gtr\": EQ+: a notch band is not rendered",
            "Track \"Gtr\": plugin \"Shiny Reverb\" is not rendered",
            "Track \"Gtr\": send to \"Verb\" is not rendered",
        ]
    );
    // The audio clip still loads.
    assert_eq!(p.tracks[0].clips.len(), 1);
}

#[test]
fn reaper_warnings_name_what_cannot_be_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"<REAPER_PROJECT 0.1 "7.0/linux" 0
  TEMPO 100 4 4
  <TRACK
    NAME Gtr
    VOLPAN 1 0 -1 -1 1
    <FXCHAIN
      BYPASS 0 0 0
      <VST "VST3: Shiny Reverb (Vendor)" shiny.vst3 0 "" 0<00>
        AAAA
      >
      BYPASS 1 0 0
      <JS utility/volume ""
        0 - - -
      >
      <PARMENV 0 0 1
        ACT 1 -1
        PT 0 0.5 0
      >
    >
    <VOLENV2
      ACT 1 -1
      PT 0 1 0
      PT 4 0.5 0
    >
    <ITEM
      POSITION 1.5
      LENGTH 2
      VOLPAN 0.5 0 1 -1
      SOFFS 0.25
      PLAYRATE 1.5 1 0 -1 0 0.0025
      <SOURCE SECTION
        LENGTH 3
        STARTPOS 2
        <SOURCE WAVE
          FILE "take 1.wav"
        >
      >
    >
    <ITEM
      POSITION 5
      LENGTH 1
      <SOURCE MIDI
        HASDATA 1 960 QN
        E 0 90 3c 60
      >
    >
    <ITEM
      POSITION 7
      LENGTH 1
      MUTE 1 0
      <SOURCE WAVE
        FILE "muted.wav"
      >
    >
    <ITEM
      POSITION 9
      LENGTH 1
      NAME first
      SOFFS 0
      <SOURCE WAVE
        FILE "take a.wav"
      >
      TAKE SEL
      NAME second
      SOFFS 0.75
      <SOURCE WAVE
        FILE "take b.wav"
      >
    >
  >
  <TRACK
    NAME Verb
    AUXRECV 0 0 1 0 0 0 0 0 0 -1:U 0 -1 ''
  >
>
"#;
    let p = dir.path().join("w.rpp");
    std::fs::write(&p, text).unwrap();
    let proj = open(&p, dir.path()).unwrap();
    let gtr = &proj.tracks[0];
    // The stretched item still loads, through its section, with its clip gain.
    assert_eq!(gtr.clips.len(), 2);
    let c = &gtr.clips[0];
    assert_eq!(c.path, dir.path().join("take 1.wav"));
    assert!(approx(c.position_s, 1.5) && approx(c.length_s, 2.0));
    assert!(approx(c.source_offset_s, 2.25));
    assert!((c.gain_db + 6.0206).abs() < 1e-3);
    // The selected take.
    assert_eq!(gtr.clips[1].path, dir.path().join("take b.wav"));
    assert!(approx(gtr.clips[1].source_offset_s, 0.75));
    assert_eq!(
        proj.warnings,
        [
            "Track \"Gtr\": plugin \"VST3: Shiny Reverb (Vendor)\" is not rendered",
            "Track \"Gtr\": parm automation is not rendered",
            "Track \"Gtr\": vol automation is not rendered",
            "Track \"Gtr\": item at 1.500 s plays at rate 1.5 (time-stretched): placed unstretched",
            "Track \"Gtr\": item at 5.000 s is MIDI: not rendered",
            "Track \"Gtr\": send to \"Verb\" is not rendered",
        ]
    );
}

#[test]
fn unreadable_projects_are_one_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cache = d.join("cache");
    let msg = |name: &str, bytes: &[u8]| {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        let e = open(&p, &cache).unwrap_err().to_string();
        assert!(e.contains(&p.display().to_string()), "{e}");
        e
    };
    assert!(msg("a.rpp", b"hello").contains("does not start with <REAPER_PROJECT"));
    assert!(
        msg("b.rpp", b"<REAPER_PROJECT 0.1\n  <TRACK\n    NAME x\n")
            .contains("ends inside a <TRACK> chunk")
    );
    assert!(msg("c.rpp", b"").contains("empty"));
    assert!(msg("d.dawproject", b"PK not really").contains("not a zip archive"));

    let p = d.join("e.dawproject");
    write_dawproject(&p, "<Project version=\"1.0\"><Structure>", None, &[]);
    let e = open(&p, &cache).unwrap_err().to_string();
    assert!(
        e.contains("e.dawproject") && e.contains("project.xml is not valid XML"),
        "{e}"
    );

    let p = d.join("f.dawproject");
    let file = std::fs::File::create(&p).unwrap();
    let mut z = zip::ZipWriter::new(file);
    z.start_file("metadata.xml", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.finish().unwrap();
    let e = open(&p, &cache).unwrap_err().to_string();
    assert!(
        e.contains("f.dawproject") && e.contains("no project.xml"),
        "{e}"
    );

    let missing = d.join("gone.rpp");
    let e = open(&missing, &cache).unwrap_err().to_string();
    assert!(
        e.contains("gone.rpp") && e.contains("cannot be read"),
        "{e}"
    );
    let e = open(&d.join("song.als"), &cache).unwrap_err().to_string();
    assert!(e.contains("song.als"), "{e}");
}

#[test]
fn a_flat_dawproject_groups_by_channel_destination() {
    // Studio One and Cubase write tracks side by side, routed to a bus channel.
    let xml = r#"<?xml version="1.0"?>
<Project version="1.0"><Application name="Hand" version="1"/>
  <Structure>
    <Track contentType="audio" id="t_bus" name="Guitars">
      <Channel role="submix" destination="c_m" id="c_bus">
        <Devices><Limiter deviceName="Lim" deviceRole="audioFX"><Threshold unit="decibel" value="-2"/></Limiter></Devices>
        <Volume unit="decibel" value="-1.5"/>
      </Channel></Track>
    <Track contentType="audio" id="t_gtr" name="Gtr L">
      <Channel role="regular" destination="c_bus" id="c_gtr"><Volume unit="linear" value="1"/></Channel></Track>
    <Track contentType="audio" id="t_m" name="Master"><Channel role="master" id="c_m"/></Track>
  </Structure>
  <Arrangement><Lanes timeUnit="seconds"><Clips track="t_gtr">
    <Clip time="1.25" duration="2"><Audio channels="2" duration="4" sampleRate="48000"><File path="g.wav" external="true"/></Audio></Clip>
  </Clips></Lanes></Arrangement>
</Project>"#;
    let p = read_xml(xml);
    assert_eq!(p.tracks.len(), 1);
    assert_eq!(p.tracks[0].name, "Gtr L");
    assert_eq!(p.tracks[0].folder.as_deref(), Some("Guitars"));
    assert!(approx(p.tracks[0].clips[0].position_s, 1.25));
    assert_eq!(p.folders.len(), 1);
    assert_eq!(p.folders[0].gain_db, -1.5);
    let EffectKind::Limiter(l) = p.folders[0].effects[0].kind else {
        panic!("{:?}", p.folders)
    };
    assert_eq!(l.ceiling_db, -2.0);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}
