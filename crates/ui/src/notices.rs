//! Notifications (what the app tells the user without stopping them) and the wording
//! of device errors in them (drawn by `notices_ui`).

use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// A non-blocking notification.
#[derive(Clone, Debug)]
pub struct Notice {
    pub text: String,
    pub level: Level,
    pub at: Instant,
}

/// An error's text as the middle of a sentence: without the full stop it may end with
/// (the caller adds its own).
pub(crate) fn sentence_body(text: &str) -> &str {
    text.trim_end().trim_end_matches('.')
}

/// The no-device banner: one full stop per sentence, "audio output" said once.
pub(crate) fn no_output_message(error: &str) -> String {
    let reason = sentence_body(error);
    let reason = reason.strip_prefix("audio output: ").unwrap_or(reason);
    format!(
        "No audio output: {reason}. Editing and export still work; playback starts when a device appears."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_no_device_banner_never_doubles_a_full_stop() {
        for e in [
            "no audio output device found",
            "audio output: The requested device is no longer available.",
            "audio output: busy. ",
        ] {
            let m = no_output_message(e);
            assert!(!m.contains(".."), "{m}");
            assert!(!m.contains("output: audio output"), "{m}");
            assert!(m.ends_with("when a device appears."), "{m}");
        }
        assert_eq!(sentence_body("lost."), "lost");
    }
}
