//! The desktop window: eframe with the glow (OpenGL) renderer, which runs on any GPU
//! and, without one, on Mesa's llvmpipe software rasteriser (e.g. under Xvfb).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use stemdeck_ui::{AppOptions, Startup, StemdeckApp};

/// The window's Wayland app id and X11 class: the desktop entry's name
/// (assets/linux/org.example.stemdeck.desktop), so docks show its icon and name.
const APP_ID: &str = "org.example.stemdeck";

mod demo {
    include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));
}

/// Write the embedded demo session to the user's data folder (once) and return its
/// session file.
pub fn install_demo() -> Option<PathBuf> {
    let dir = std::env::var_os("STEMDECK_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "Stemdeck").map(|p| p.data_dir().to_owned())
        })?
        .join("demo");
    let session = demo::DEMO_FILES
        .iter()
        .find(|(n, _)| n.ends_with(".json"))?
        .0;
    for (name, bytes) in demo::DEMO_FILES {
        let path = dir.join(name);
        let same = std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64);
        if !same {
            std::fs::create_dir_all(&dir).ok()?;
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, bytes).ok()?;
            std::fs::rename(&tmp, &path).ok()?;
        }
    }
    Some(dir.join(session))
}

pub fn run(paths: Vec<PathBuf>) -> anyhow::Result<()> {
    // `stemdeck open FILE` (a file manager's double-click) while Stemdeck runs: the
    // running window opens it, asking about unsaved changes there.
    if !paths.is_empty() && stemdeck_ui::instance::send_to_running(&paths).unwrap_or(false) {
        eprintln!("stemdeck: opened in the running Stemdeck window");
        return Ok(());
    }
    let handoff = stemdeck_ui::instance::serve();
    let startup = if paths.is_empty() {
        Startup::LastOrDemo
    } else {
        Startup::Open(paths)
    };
    let options = AppOptions {
        audio: true,
        startup,
        demo: install_demo(),
        open_requests: handoff.as_ref().map(|h| h.requests.clone()),
    };
    let wake = handoff.as_ref().map(|h| std::sync::Arc::clone(&h.wake));
    let icon_size = egui::vec2(1280.0, 800.0);
    let native = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title("Stemdeck")
            .with_app_id(APP_ID)
            .with_inner_size(icon_size)
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    let result = eframe::run_native(
        "Stemdeck",
        native,
        Box::new(move |cc| {
            if let Some(wake) = wake {
                wake.set(cc.egui_ctx.clone()).ok();
            }
            let mut app = StemdeckApp::new(options);
            if let Some(gl) = &cc.gl {
                use eframe::glow::HasContext as _;
                // SAFETY: eframe made this context current on this thread before calling
                // us, and GL_RENDERER is a string every context has (egui_glow's painter
                // has just read it the same way).
                let name = unsafe { gl.get_parameter_string(eframe::glow::RENDERER) };
                app.set_renderer(stemdeck_ui::Renderer::new(name));
            }
            Ok(Box::new(app))
        }),
    );
    // The socket goes with the window.
    drop(handoff);
    result
        .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
        .context(
            "the desktop app needs a display (X11 or Wayland); the command line works without one",
        )
}

/// Whether a path exists, for a clear message before opening the window.
pub fn check_paths(paths: &[PathBuf]) -> anyhow::Result<()> {
    for p in paths {
        if !Path::new(p).exists() {
            anyhow::bail!("{}: no such file or folder", p.display());
        }
    }
    Ok(())
}
