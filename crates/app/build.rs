//! Embeds the bundled demo session (assets/demo) in the binary, so the app can open it
//! from any working directory on first launch.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/demo");
    println!("cargo:rerun-if-changed={}", demo.display());
    let mut files: Vec<_> = std::fs::read_dir(&demo)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from(
        "/// The demo session's files: (name, bytes).\npub const DEMO_FILES: &[(&str, &[u8])] = &[\n",
    );
    for f in files {
        let Some(name) = f.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        println!("cargo:rerun-if-changed={}", f.display());
        let abs = f.canonicalize().unwrap_or(f.clone());
        writeln!(
            out,
            "    ({name:?}, include_bytes!({:?})),",
            abs.display().to_string()
        )
        .ok();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("demo_files.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        println!("cargo:warning=cannot write {}: {e}", dest.display());
    }
}
