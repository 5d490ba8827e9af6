//! The short soak: crates/engine/examples/soak.rs for 20 s (SOAK_SECONDS) through the
//! PulseAudio null sink, 100 random mute/solo/seek/regroup commands a second. It must end
//! with no panic, RSS flat after warm-up, and callbacks all along; its summary (commands,
//! callbacks, xruns, RSS) is printed. The ten-minute run is bench/soak.sh.
// Tests may unwrap (clippy.toml); clippy cannot tell their helpers from library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use stemdeck_e2e::workspace_root;

const SINK: &str = "stemdeck_test";

fn tool(name: &str) -> Command {
    let mut c = Command::new(name);
    c.stdin(Stdio::null());
    c
}

fn ok(c: &mut Command) -> bool {
    c.output().map(|o| o.status.success()).unwrap_or(false)
}

/// The tests that use the sound server run one at a time (see play_device.rs).
fn exclusive() -> std::fs::File {
    let f = std::fs::File::create(std::env::temp_dir().join("stemdeck-pulse-tests.lock")).unwrap();
    f.lock().unwrap();
    f
}

/// Start PulseAudio if needed, with a 48 kHz null sink as the default device.
fn pulse_null_sink() {
    if !ok(tool("pactl").arg("info")) {
        let st = tool("pulseaudio")
            .args([
                "--daemonize=yes",
                "--exit-idle-time=-1",
                "-n",
                "--load=module-native-protocol-unix",
            ])
            .status()
            .unwrap_or_else(|e| panic!("pulseaudio is required for this test: {e}"));
        assert!(st.success(), "pulseaudio did not start");
        for _ in 0..50 {
            if ok(tool("pactl").arg("info")) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let sinks = tool("pactl")
        .args(["list", "short", "sinks"])
        .output()
        .unwrap();
    if !String::from_utf8_lossy(&sinks.stdout).contains(SINK) {
        assert!(ok(tool("pactl").args([
            "load-module",
            "module-null-sink",
            &format!("sink_name={SINK}"),
            "rate=48000",
            "channels=2",
        ])));
    }
    assert!(ok(tool("pactl").args(["set-default-sink", SINK])));
}

/// The soak example, built like the tests (debug profile); cargo says where it is.
/// `--workspace` resolves features as scripts/test.sh's `--workspace --all-targets`
/// build does, so this reuses that build; `-p stemdeck_engine` would rebuild half the
/// dependencies with other features (four minutes here, and a GB of disk).
fn soak_example() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args(["build", "--workspace", "--example", "soak"])
        .args(["--message-format", "json-render-diagnostics"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "soak")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the soak example")
}

#[test]
fn soak_short_no_panic_flat_memory_xruns_reported() {
    let exe = soak_example();
    let _lock = exclusive();
    pulse_null_sink();
    let seconds = std::env::var("SOAK_SECONDS").unwrap_or_else(|_| "20".into());
    let out = Command::new(exe)
        .arg(&seconds)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "soak failed ({})", out.status);
    assert!(stdout.contains("soak: PASS"));
    assert!(stdout.contains("xruns"), "xruns are reported");
}
