//! The session parser on arbitrary bytes: `Session::from_json` must return a session or
//! an error naming the file, never panic; and whatever it accepts must survive what the
//! app does next with a session (mix plans, variants, a new stem, saving and reloading).
#![no_main]

use std::path::{Component, Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use stemdeck_session::Session;
use stemdeck_session::routing::MixMode;

const FILE: &str = "/fuzz/session/song.stemdeck.json";

fuzz_target!(|data: &[u8]| {
    let path = Path::new(FILE);
    // The app reads a session file as UTF-8 text; other bytes never get this far, but a
    // lossy conversion still makes a useful parser input.
    let text = String::from_utf8_lossy(data);
    let session = match Session::from_json(&text, path) {
        Ok(s) => s,
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.contains(FILE),
                "the error does not name the file: {msg}"
            );
            return;
        }
    };
    let _ = session.mix_plan(MixMode::Audition);
    let _ = session.mix_plan(MixMode::Stems);
    for v in &session.variants {
        let mut s = session.clone();
        s.apply_variant(v);
        let _ = s.mix_plan(MixMode::Audition);
        let _ = session.matches_variant(v);
    }
    let _ = session.unassigned_tracks().count();

    // What the GUI does with a session: capture a variant, add a stem, regroup.
    let mut edited = session.clone();
    let v = edited.capture_variant("fuzz");
    edited.variants.push(v);
    let _ = edited.next_track_id();
    let stem = edited.add_stem("New");
    let ids: Vec<_> = edited.tracks.iter().map(|t| t.id).collect();
    edited.move_tracks(&ids, Some(stem), Some(1));
    edited.move_tracks(&ids[..ids.len() / 2], None, None);
    edited
        .check()
        .unwrap_or_else(|e| panic!("editing broke an invariant: {e}"));
    let _ = edited.mix_plan(MixMode::Audition);

    // Saving and loading again gives the same session (paths may be spelled differently:
    // an absolute path outside the folder is saved relative, "../../abs/x.wav").
    let json = session.to_json(path);
    let back = Session::from_json(&json, path)
        .unwrap_or_else(|e| panic!("a saved session does not load: {e}\n{json}"));
    assert_eq!(
        normalized(back),
        normalized(session),
        "save + load changed the session\n{json}"
    );
});

/// The session with every path resolved lexically ("a/../b" is "b").
fn normalized(mut s: Session) -> Session {
    fn lexical(p: &Path) -> PathBuf {
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                Component::ParentDir if out.file_name().is_some() => {
                    out.pop();
                }
                Component::CurDir => {}
                c => out.push(c),
            }
        }
        out
    }
    for t in &mut s.tracks {
        t.path = lexical(&t.path);
    }
    if let Some(d) = &mut s.export.out_dir {
        *d = lexical(d);
    }
    s
}
