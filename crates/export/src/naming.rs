//! Where stems go and what they are called.
//!
//! A template names each file from tokens: `{index}` (two digits, 01 for the first stem,
//! 00 for the master), `{title}`, `{artist}`, `{stem}`, `{bpm}`, `{key}`. Tokens with no
//! value vanish along with the separator next to them. The result is made safe on
//! Windows, macOS and Linux (sanitize-filename: reserved characters, reserved device
//! names such as CON, trailing dots and spaces, 255-byte limit).

use stemdeck_session::Song;

/// The default file-name template: "01 Night Drive - Drums".
pub const DEFAULT_TEMPLATE: &str = stemdeck_session::DEFAULT_EXPORT_TEMPLATE;

/// The name of the folder stems go into: "<title> - Stems".
pub fn stems_folder_name(song: &Song) -> String {
    let title = if song.title.trim().is_empty() {
        "Untitled"
    } else {
        song.title.trim()
    };
    safe_file_name(&format!("{title} - Stems"))
}

/// Expand `template` for one file (without extension), made safe for every OS.
pub fn file_stem(template: &str, song: &Song, index: usize, stem: &str) -> String {
    let bpm = song.bpm.map(format_bpm).unwrap_or_default();
    let values: [(&str, String); 6] = [
        ("{index}", format!("{index:02}")),
        ("{title}", song.title.trim().to_owned()),
        ("{artist}", song.artist.trim().to_owned()),
        ("{stem}", stem.trim().to_owned()),
        (
            "{bpm}",
            if bpm.is_empty() {
                bpm
            } else {
                format!("{bpm} BPM")
            },
        ),
        ("{key}", song.key.trim().to_owned()),
    ];
    let mut out = template.to_owned();
    for (token, value) in &values {
        out = out.replace(token, value);
    }
    let tidy = tidy_separators(&out);
    let safe = safe_file_name(&tidy);
    if safe.is_empty() {
        safe_file_name(stem)
    } else {
        safe
    }
}

fn format_bpm(bpm: f64) -> String {
    if (bpm - bpm.round()).abs() < 1e-9 {
        format!("{}", bpm.round() as i64)
    } else {
        format!("{bpm:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

/// Collapse what empty tokens leave behind ("01  - Drums", "Song -  - Bass", "_ Drums").
fn tidy_separators(s: &str) -> String {
    let parts: Vec<&str> = s
        .split(" - ")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let joined = parts.join(" - ");
    let mut out = String::with_capacity(joined.len());
    for c in joined.chars() {
        if c == ' ' && out.ends_with(' ') {
            continue;
        }
        out.push(c);
    }
    out.trim_matches(|c: char| c == ' ' || c == '-' || c == '_')
        .to_owned()
}

/// A name that is a valid file name on Windows, macOS and Linux.
pub fn safe_file_name(name: &str) -> String {
    let opts = sanitize_filename::Options {
        windows: true,
        truncate: true,
        replacement: "_",
    };
    // Trailing dots and spaces go first: sanitize-filename would turn them into "_".
    let name = name.trim().trim_end_matches(['.', ' ']);
    sanitize_filename::sanitize_with_options(name, opts)
        .trim_end_matches(['.', ' '])
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song() -> Song {
        Song {
            title: "Night Drive".into(),
            artist: "The Examples".into(),
            bpm: Some(122.0),
            key: "F#m".into(),
            notes: String::new(),
        }
    }

    #[test]
    fn default_template() {
        assert_eq!(
            file_stem(DEFAULT_TEMPLATE, &song(), 1, "Drums"),
            "01 Night Drive - Drums"
        );
        assert_eq!(stems_folder_name(&song()), "Night Drive - Stems");
    }

    #[test]
    fn all_tokens_and_missing_values() {
        let t = "{title}_{stem}_{key}_{bpm}";
        assert_eq!(
            file_stem(t, &song(), 3, "Bass"),
            "Night Drive_Bass_F#m_122 BPM"
        );
        let mut s = song();
        s.title.clear();
        assert_eq!(file_stem(DEFAULT_TEMPLATE, &s, 2, "Bass"), "02 - Bass");
        s.bpm = Some(92.5);
        assert_eq!(file_stem("{stem} {bpm}", &s, 2, "Bass"), "Bass 92.5 BPM");
    }

    #[test]
    fn names_are_safe_everywhere() {
        let mut s = song();
        s.title = "AC/DC: \"Live\" <take> 2?".into();
        let name = file_stem(DEFAULT_TEMPLATE, &s, 1, "Vox*Lead|Dbl");
        assert!(
            !name.contains(['/', '\\', ':', '"', '<', '>', '?', '*', '|']),
            "{name}"
        );
        assert_eq!(safe_file_name("CON"), "_");
        assert_eq!(safe_file_name("Drums. "), "Drums");
        let long = "x".repeat(400);
        assert!(file_stem("{stem}", &s, 1, &long).len() <= 255);
        assert_eq!(stems_folder_name(&Song::default()), "Untitled - Stems");
    }
}
