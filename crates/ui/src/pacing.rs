//! How often the window asks for a frame while something on it moves (the playhead and
//! the meters), and what it knows of the renderer that draws it.
//!
//! With a GPU a frame of this window costs a few ms of CPU. A software renderer (Mesa's
//! llvmpipe on a machine or VM without a GPU driver, Windows' GDI Generic) fills every
//! pixel on the processor: about 45 ms of CPU a frame at 1280 × 800 on the project's
//! 2-core machine. Played at 60 Hz right after opening a big session, drawing then took
//! a core from the workers computing the waveform overviews, and every overview came
//! 0.5 s later (docs/performance.md, 2026-12-04). So while overviews are computed on a
//! software renderer, the playhead and meters move 10 times a second instead of 60.

use std::time::Duration;

/// The frame interval while something moves: about the display's rate.
pub const FRAME: Duration = Duration::from_millis(16);

/// The frame interval while something moves, on a software renderer, while overviews
/// are computed.
pub const SOFTWARE_BUSY_FRAME: Duration = Duration::from_millis(100);

/// The OpenGL renderer drawing the window, as its driver names it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Renderer {
    /// `GL_RENDERER`, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"; `None` when not known
    /// (tests, no GL).
    name: Option<String>,
    /// Known from the name once, not in every frame.
    software: bool,
}

impl Renderer {
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        // The names the software renderers give themselves (Mesa's llvmpipe and
        // softpipe, Windows' and Apple's).
        let lower = name.to_ascii_lowercase();
        let software = [
            "llvmpipe",
            "softpipe",
            "software rasterizer",
            "software renderer",
            "gdi generic",
        ]
        .iter()
        .any(|s| lower.contains(s));
        Self {
            name: Some(name),
            software,
        }
    }

    /// Whether it draws on the processor.
    pub fn is_software(&self) -> bool {
        self.software
    }

    /// The interval between frames while the playhead or a meter moves.
    pub fn animation_interval(&self, overviews_computing: bool) -> Duration {
        if overviews_computing && self.is_software() {
            SOFTWARE_BUSY_FRAME
        } else {
            FRAME
        }
    }

    /// For View ▸ Diagnostics.
    pub fn describe(&self) -> String {
        match &self.name {
            None => "–".into(),
            Some(n) if self.is_software() => format!("{n} (software)"),
            Some(n) => n.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_renderers_are_known_by_name() {
        for name in [
            "llvmpipe (LLVM 15.0.6, 256 bits)",
            "softpipe",
            "Software Rasterizer",
            "Apple Software Renderer",
            "GDI Generic",
        ] {
            assert!(Renderer::new(name).is_software(), "{name}");
        }
        for name in [
            "AMD Radeon RX 6600 (radeonsi, navi23, LLVM 15.0.6, DRM 3.49, 6.1.0)",
            "Mesa Intel(R) UHD Graphics 620 (KBL GT2)",
            "NVIDIA GeForce RTX 3060/PCIe/SSE2",
            "Apple M1",
        ] {
            assert!(!Renderer::new(name).is_software(), "{name}");
        }
        assert!(
            !Renderer::default().is_software(),
            "unknown: drawn at full rate"
        );
    }

    #[test]
    fn only_a_software_renderer_slows_down_and_only_while_overviews_are_computed() {
        let soft = Renderer::new("llvmpipe (LLVM 15.0.6, 256 bits)");
        let gpu = Renderer::new("Mesa Intel(R) UHD Graphics 620 (KBL GT2)");
        assert_eq!(soft.animation_interval(true), SOFTWARE_BUSY_FRAME);
        assert_eq!(soft.animation_interval(false), FRAME);
        assert_eq!(gpu.animation_interval(true), FRAME);
        assert_eq!(Renderer::default().animation_interval(true), FRAME);
        assert_eq!(
            soft.describe(),
            "llvmpipe (LLVM 15.0.6, 256 bits) (software)"
        );
        assert_eq!(Renderer::default().describe(), "–");
    }
}
