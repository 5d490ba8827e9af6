//! Colours and sizes shared by the panels.

use egui::Color32;
use stemdeck_session::units::amplitude_to_db;

pub const LANE_HEADER_WIDTH: f32 = 250.0;
pub const TRACK_ROW_HEIGHT: f32 = 44.0;
pub const LANE_HEADER_HEIGHT: f32 = 30.0;
pub const MUTE_COLOR: Color32 = Color32::from_rgb(230, 160, 40);
pub const SOLO_COLOR: Color32 = Color32::from_rgb(70, 180, 90);
pub const PLAYHEAD_COLOR: Color32 = Color32::from_rgb(255, 80, 80);
pub const LOOP_COLOR: Color32 = Color32::from_rgba_premultiplied(60, 120, 220, 50);
pub const WAVE_UNASSIGNED: Color32 = Color32::from_gray(110);

/// "#RRGGBB" to a colour (grey when malformed).
pub fn parse_color(hex: &str) -> Color32 {
    let h = hex.trim().trim_start_matches('#');
    let byte = |i: usize| h.get(i..i + 2).and_then(|s| u8::from_str_radix(s, 16).ok());
    match (h.len(), byte(0), byte(2), byte(4)) {
        (6, Some(r), Some(g), Some(b)) => Color32::from_rgb(r, g, b),
        _ => Color32::GRAY,
    }
}

pub fn to_hex(c: Color32) -> String {
    format!("#{:02X}{:02X}{:02X}", c.r(), c.g(), c.b())
}

/// Linear level to a 0..1 meter fraction over a 60 dB range.
pub fn meter_fraction(level: f32) -> f32 {
    if level <= 0.0 {
        return 0.0;
    }
    (1.0 + amplitude_to_db(level) / 60.0).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_round_trip() {
        assert_eq!(to_hex(parse_color("#e8533f")), "#E8533F");
        assert_eq!(parse_color("nope"), Color32::GRAY);
        assert_eq!(meter_fraction(1.0), 1.0);
        assert!((meter_fraction(0.001) - 0.0).abs() < 1e-6);
    }
}
