//! Auto-grouping: sorting tracks into stems by their names.
//!
//! A track name is read as a list of lowercase words ("12-Snare_Top" → `snare`, `top`;
//! "LeadVox2" → `lead`, `vox`, `2`), then every keyword of the rule table `RULES` is
//! looked for among those words (single words and adjacent pairs such as `bass drum`).
//! Of all the keywords found, the one with the highest priority decides the role; on a
//! tie the longer keyword wins, then the earlier row of the table. The matcher is generic:
//! every naming decision lives in the table, and `docs/grouping.md` documents each
//! keyword and each priority (a test keeps the two in step).

use std::cmp::Reverse;
use std::collections::HashSet;

use crate::{AUDIO_EXTENSIONS, DEFAULT_STEM_COLORS, Session, TrackId};

/// The stem a track's name points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Drums,
    Bass,
    Vocals,
    Instruments,
    Fx,
}

impl Role {
    /// Every role, in stem order.
    pub const ALL: [Role; 5] = [
        Role::Drums,
        Role::Bass,
        Role::Vocals,
        Role::Instruments,
        Role::Fx,
    ];

    /// The name of the stem this role fills.
    pub fn stem_name(self) -> &'static str {
        match self {
            Role::Drums => "Drums",
            Role::Bass => "Bass",
            Role::Vocals => "Vocals",
            Role::Instruments => "Instruments",
            Role::Fx => "FX",
        }
    }

    /// The stem colour ("#RRGGBB"): the first five lane colours, one per role.
    pub fn color(self) -> &'static str {
        match self {
            Role::Drums => DEFAULT_STEM_COLORS[0],
            Role::Bass => DEFAULT_STEM_COLORS[1],
            Role::Vocals => DEFAULT_STEM_COLORS[2],
            Role::Instruments => DEFAULT_STEM_COLORS[3],
            Role::Fx => DEFAULT_STEM_COLORS[4],
        }
    }
}

/// Why a name got its role: the rule's keyword(s) that matched, for `stemdeck group` to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub role: Option<Role>,
    pub rule: &'static str,
}

/// The `rule` of a [`Match`] when no keyword of the table is in the name.
pub const NO_RULE_MATCHED: &str = "(no rule matched)";

/// Which role a track name points to; `None` means the track belongs in no stem
/// (click/metronome/guide/reference bounce/"mix"/"master" print etc.). Names that match no
/// rule at all go to `Some(Role::Instruments)` (the "other instruments" stem).
pub fn classify(name: &str) -> Option<Role> {
    explain(name).role
}

/// The role of a track name and the keyword that decided it (see the module docs).
pub fn explain(name: &str) -> Match {
    let words = words(name);
    let best = RULES
        .iter()
        .enumerate()
        .flat_map(|(row, rule)| {
            rule.keywords
                .iter()
                .enumerate()
                .map(move |(col, keyword)| (row, col, rule, *keyword))
        })
        .filter(|(_, _, _, keyword)| contains_keyword(&words, keyword))
        .max_by_key(|(row, col, rule, keyword)| {
            (
                rule.priority,
                keyword.split(' ').count(),
                Reverse((*row, *col)),
            )
        });
    match best {
        Some((_, _, rule, keyword)) => Match {
            role: rule.role,
            rule: keyword,
        },
        None => Match {
            role: Some(Role::Instruments),
            rule: NO_RULE_MATCHED,
        },
    }
}

/// Replace the session's stems with auto-grouped ones: always Drums, Bass, Vocals and
/// Instruments (even when empty — a delivery needs the four), plus FX only when some track
/// is an effect track. Tracks keep their session order inside each stem. Tracks whose
/// [`classify`] is `None` stay unassigned. Each stem gets its role colour.
pub fn auto_group(session: &mut Session) {
    let mut seen = HashSet::new();
    let roles: Vec<(TrackId, Option<Role>)> = session
        .tracks
        .iter()
        .filter(|t| seen.insert(t.id))
        .map(|t| (t.id, classify(&t.name)))
        .collect();
    session.stems.clear();
    for role in Role::ALL {
        let members: Vec<TrackId> = roles
            .iter()
            .filter(|(_, r)| *r == Some(role))
            .map(|(id, _)| *id)
            .collect();
        if role == Role::Fx && members.is_empty() {
            continue;
        }
        let stem = session.add_stem(role.stem_name());
        if let Some(s) = session.stem_mut(stem) {
            s.color = role.color().to_owned();
        }
        session.move_tracks(&members, Some(stem), None);
    }
}

/// Put tracks (just added to the session) into the stems their names say, leaving the
/// other stems alone: a stem is matched by its name read as a role ("Drums", "Vox"), and
/// one is created (with the role's name and colour) when no stem plays that role. Tracks
/// whose [`classify`] is `None` stay unassigned.
pub fn group_tracks(session: &mut Session, ids: &[TrackId]) {
    for id in ids {
        let Some(role) = session.track(*id).and_then(|t| classify(&t.name)) else {
            continue;
        };
        let existing = session
            .stems
            .iter()
            .find(|s| classify(&s.name) == Some(role))
            .map(|s| s.id);
        let stem = existing.unwrap_or_else(|| {
            let stem = session.add_stem(role.stem_name());
            if let Some(s) = session.stem_mut(stem) {
                s.color = role.color().to_owned();
            }
            stem
        });
        session.move_tracks(&[*id], Some(stem), None);
    }
}

// ---------------------------------------------------------------------------------------
// How a name is read

/// Audio extensions Stemdeck does not read that names from other tools may still carry
/// (a DAW's track named after its file); with [`AUDIO_EXTENSIONS`], the extensions a
/// caller may have left on a name ("Kick In_01.wav").
const OTHER_AUDIO_EXTENSIONS: [&str; 3] = ["rf64", "w64", "opus"];

fn strip_extension(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.trim().is_empty()
                && AUDIO_EXTENSIONS
                    .iter()
                    .chain(&OTHER_AUDIO_EXTENSIONS)
                    .any(|e| e.eq_ignore_ascii_case(ext.trim())) =>
        {
            stem
        }
        _ => name,
    }
}

/// The lowercase words of a name. Words end at anything that is not a letter or a digit,
/// between letters and digits ("Kick01", "808Kick"), at a lower→upper step ("LeadVox")
/// and before the last capital of a capitalised run followed by lowercase ("AGtr" → "A",
/// "Gtr"), except a plural "s" ("OHs", "BGVs" stay one word).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = strip_extension(name).chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            continue;
        }
        if !word.is_empty()
            && let Some(&prev) = i.checked_sub(1).and_then(|p| chars.get(p))
            && word_boundary(
                prev,
                c,
                chars.get(i + 1).copied(),
                chars.get(i + 2).copied(),
            )
        {
            out.push(std::mem::take(&mut word));
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Whether a new word starts at `c` (both `prev` and `c` are letters or digits).
fn word_boundary(prev: char, c: char, next: Option<char>, after: Option<char>) -> bool {
    if prev.is_numeric() != c.is_numeric() {
        return true;
    }
    if c.is_numeric() {
        return false;
    }
    if prev.is_lowercase() && c.is_uppercase() {
        return true;
    }
    if prev.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase) {
        let plural_s = next == Some('s') && !after.is_some_and(char::is_lowercase);
        return !plural_s;
    }
    false
}

/// Whether the keyword's words occur one after the other in `words`.
fn contains_keyword(words: &[String], keyword: &str) -> bool {
    let wanted: Vec<&str> = keyword.split(' ').collect();
    words.windows(wanted.len()).any(|window| {
        window
            .iter()
            .zip(&wanted)
            .all(|(word, key)| word_is(word, key))
    })
}

/// A word matches a keyword exactly or as its plural with an "s" ("toms", "bgvs", "mics");
/// one-letter keywords only match exactly.
fn word_is(word: &str, key: &str) -> bool {
    word == key
        || (key.len() >= 2
            && word.len() == key.len() + 1
            && word.ends_with('s')
            && word.starts_with(key))
}

// ---------------------------------------------------------------------------------------
// The rule table. Keep docs/grouping.md in step (a test checks every keyword is there).

/// Keywords that all point to one role with one priority. A keyword is one word or
/// several adjacent words separated by single spaces, lowercase, as [`words`] reads them.
struct Rule {
    role: Option<Role>,
    priority: u8,
    keywords: &'static [&'static str],
}

const DRUMS: Option<Role> = Some(Role::Drums);
const BASS: Option<Role> = Some(Role::Bass);
const VOCALS: Option<Role> = Some(Role::Vocals);
const INSTRUMENTS: Option<Role> = Some(Role::Instruments);
const FX: Option<Role> = Some(Role::Fx);
const NO_STEM: Option<Role> = None;

/// A named exception to a "not in the mix" word: "TB-303" is a bass synth, not talkback.
const EXCEPTION: u8 = 110;
/// Not part of the mix: click, guide, references, timecode, talkback. Beats everything.
const NOT_IN_MIX: u8 = 100;
/// Sound-design effects: an FX track stays FX whatever it is made of ("Vox FX", "Synth Riser").
const EFFECT: u8 = 70;
/// Words that say "a voice": beat instrument words, so a live "Bass Vox"/"Keys Vox"
/// (the player's vocal mic) is a vocal.
const VOICE: u8 = 65;
/// Instruments whose name holds a drum or bass word ("Bass Clarinet", "Steel Drum").
const NAMED_INSTRUMENT: u8 = 62;
/// Drum and percussion words: beat "bass"/"sub"/"808" ("Kick Sub", "808 Kick", "Bass Drum").
const DRUM: u8 = 60;
/// Bass words: beat instrument words ("Synth Bass", "Bass Gtr", "Key Bass").
const BASS_WORD: u8 = 55;
/// Instrument words: beat the weak hints below ("Lead Gtr", "Gtr Dbl", "Piano Room").
const INSTRUMENT: u8 = 50;
/// Vocal styles that an instrument word overrides ("Choir" is a vocal, "Choir Pad" a synth).
const SINGING: u8 = 45;
/// "Acoustic", "electric": an instrument unless a stronger word says which ("Acoustic Bass").
const MODIFIER: u8 = 35;
/// Weak hints that only decide when nothing stronger is in the name ("Lead", "Room", "Loop").
const HINT: u8 = 30;
/// Processing returns and ambience: FX alone, otherwise with the instrument named ("Snare Verb").
const EFFECT_HINT: u8 = 25;
/// Mix prints: out of the stems alone ("Mix", "Bounce"), a stem print with a role word ("Drum Mix").
const PRINT: u8 = 20;

/// The rule table, read by [`explain`]. Order only matters between keywords of equal
/// priority and length (the earlier row wins).
#[rustfmt::skip] // a data table: keep the keyword lists dense
static RULES: &[Rule] = &[
    // --- Not in any stem ---------------------------------------------------------------
    Rule {
        role: BASS,
        priority: EXCEPTION,
        keywords: &["tb 303"],
    },
    Rule {
        role: DRUMS,
        priority: EXCEPTION,
        keywords: &["kick click"],
    },
    Rule {
        role: NO_STEM,
        priority: NOT_IN_MIX,
        keywords: &[
            "click", "clk", "metronome", "metro", "met", "count in", "countin", "count off",
            "guide", "scratch vox", "scratch vocal", "scratch voc", "ref", "reference", "rough",
            "rough mix", "2 mix", "timecode", "time code", "smpte", "ltc", "talkback",
            "talk back", "tb", "slate", "test tone",
        ],
    },
    // --- FX ----------------------------------------------------------------------------
    Rule {
        role: FX,
        priority: EFFECT,
        keywords: &[
            "fx", "sfx", "efx", "vox fx", "vocal fx", "voc fx", "fx hit", "fx return", "riser",
            "rise", "uplifter", "uplift", "downlifter", "downlift", "impact", "sweep", "whoosh",
            "woosh", "swoosh", "noise", "foley", "siren", "glitch", "transition", "sub drop",
            "air horn", "tape stop", "rev crash", "rev cym", "rev cymbal", "reverse crash",
            "reverse cym", "reverse cymbal",
        ],
    },
    // --- Vocals (voice words) ----------------------------------------------------------
    Rule {
        role: VOCALS,
        priority: VOICE,
        keywords: &[
            "vox", "vocal", "voc", "vo", "vx", "vcl", "voice", "bgv", "bv", "bvox", "bvx",
            "lead vox", "lead vocal", "lead voc", "ld vox", "ld vocal", "vox chop",
            "vocal chop",
        ],
    },
    // --- Instruments named with a drum or bass word ------------------------------------
    Rule {
        role: INSTRUMENTS,
        priority: NAMED_INSTRUMENT,
        keywords: &["bass clarinet", "bass trombone", "bass flute", "steel drum", "steel pan"],
    },
    // --- Drums -------------------------------------------------------------------------
    Rule {
        role: DRUMS,
        priority: DRUM,
        keywords: &[
            "kick", "kik", "kck", "bd", "bassdrum", "bass drum", "sub kick", "kick sub",
            "808 kick", "kick 808",
        ],
    },
    Rule {
        role: DRUMS,
        priority: DRUM,
        keywords: &[
            "snare", "snr", "sn", "rim", "rimshot", "sidestick", "side stick", "xstick",
        ],
    },
    Rule {
        role: DRUMS,
        priority: DRUM,
        keywords: &[
            "hat", "hh", "hihat", "hi hat", "ohh", "oh", "ovh", "ovhd", "overhead", "ride", "crash",
            "cymbal", "cym", "china", "splash",
        ],
    },
    Rule {
        role: DRUMS,
        priority: DRUM,
        keywords: &["tom", "floor tom", "rack tom", "rack"],
    },
    Rule {
        role: DRUMS,
        priority: DRUM,
        keywords: &[
            "perc", "percussion", "clap", "snap", "shaker", "tamb", "tambo", "tambourine",
            "conga", "bongo", "cowbell", "cajon", "djembe", "timbale", "guiro", "cabasa",
            "triangle", "woodblock", "agogo", "clave", "sleigh bell", "tabla", "gong", "timpani",
            "timp",
        ],
    },
    Rule {
        role: DRUMS,
        priority: DRUM,
        keywords: &[
            "drum", "drm", "drumkit", "kit", "drum loop", "breakbeat", "brush", "tr 808",
            "909",
        ],
    },
    // --- Bass --------------------------------------------------------------------------
    Rule {
        role: BASS,
        priority: BASS_WORD,
        keywords: &[
            "bass", "bs", "sub", "subbass", "sub bass", "808", "303", "bassline", "fretless",
        ],
    },
    Rule {
        role: BASS,
        priority: BASS_WORD,
        keywords: &[
            "bass di", "bs di", "bass amp", "bs amp", "synth bass", "bass synth", "moog bass",
            "key bass", "bass gtr", "bass guitar", "upright bass", "double bass",
        ],
    },
    // --- Instruments -------------------------------------------------------------------
    Rule {
        role: INSTRUMENTS,
        priority: INSTRUMENT,
        keywords: &[
            "gtr", "guitar", "egtr", "agtr", "acgtr", "ac gtr", "lead gtr", "lead guitar",
            "nylon", "dobro", "pedal steel", "banjo", "mandolin", "mando", "uke", "ukulele",
            "harp", "sitar", "harmonica",
        ],
    },
    Rule {
        role: INSTRUMENTS,
        priority: INSTRUMENT,
        keywords: &[
            "key", "keyboard", "piano", "pno", "rhodes", "wurli", "wurlitzer", "organ", "b 3",
            "hammond", "leslie", "clav", "clavinet", "ep", "epiano", "mellotron", "celesta",
            "celeste", "harpsichord", "accordion", "melodica",
        ],
    },
    Rule {
        role: INSTRUMENTS,
        priority: INSTRUMENT,
        keywords: &[
            "synth", "syn", "pad", "arp", "arpeggio", "pluck", "lead synth", "synth lead",
            "moog",
        ],
    },
    Rule {
        role: INSTRUMENTS,
        priority: INSTRUMENT,
        keywords: &[
            "string", "str", "violin", "vln", "viola", "vla", "cello", "celli", "brass", "horn",
            "trumpet", "tpt", "trombone", "tbn", "sax", "saxophone", "flute", "clarinet",
            "oboe", "bassoon", "woodwind", "orch", "orchestra",
        ],
    },
    Rule {
        role: INSTRUMENTS,
        priority: INSTRUMENT,
        keywords: &[
            "mallet", "marimba", "vibes", "vibraphone", "bell", "glock", "glockenspiel",
            "xylophone",
        ],
    },
    // --- Vocal styles an instrument word overrides -------------------------------------
    Rule {
        role: INSTRUMENTS,
        priority: SINGING,
        keywords: &["backing track"],
    },
    Rule {
        role: VOCALS,
        priority: SINGING,
        keywords: &[
            "choir", "harmony", "harmonies", "harm", "backing", "backs", "bkg", "adlib",
            "ad lib", "rap", "rapper", "mc", "spoken", "speech", "gang", "shout", "whisper",
            "ooh", "aah", "ahh", "vocoder", "acapella", "a cappella", "a capella",
        ],
    },
    // --- Modifiers and weak hints ------------------------------------------------------
    Rule {
        role: INSTRUMENTS,
        priority: MODIFIER,
        keywords: &["acoustic", "acous", "elec", "electric"],
    },
    Rule {
        role: VOCALS,
        priority: HINT,
        keywords: &[
            "lead", "ld", "double", "dbl", "dub", "hook", "verse", "chorus",
        ],
    },
    Rule {
        role: DRUMS,
        priority: HINT,
        keywords: &["room", "room mic", "amb", "ambience", "loop", "floor"],
    },
    Rule {
        role: FX,
        priority: EFFECT_HINT,
        keywords: &[
            "reverb", "verb", "delay", "dly", "echo", "plate", "hall", "return", "rtn", "aux",
            "verb return", "reverb return", "delay return", "reverse", "texture", "swell",
            "drop", "crowd", "audience", "vinyl", "crackle", "atmos", "atmosphere",
            "soundscape",
        ],
    },
    Rule {
        role: NO_STEM,
        priority: PRINT,
        keywords: &[
            "mix", "mixdown", "print", "bounce", "master", "mstr", "premaster", "instrumental",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Song, Track};

    const D: Option<Role> = Some(Role::Drums);
    const B: Option<Role> = Some(Role::Bass);
    const V: Option<Role> = Some(Role::Vocals);
    const I: Option<Role> = Some(Role::Instruments);
    const F: Option<Role> = Some(Role::Fx);
    const N: Option<Role> = None;

    /// Track names as DAWs, studios and sample packs write them, with the expected role.
    const NAMES: &[(&str, Option<Role>)] = &[
        // Drums
        ("Kick In_01.wav", D),
        ("01 Kick In", D),
        ("Kick Out", D),
        ("Kick01", D),
        ("Kik", D),
        ("BD", D),
        ("Bass Drum", D),
        ("Kick Sub", D),
        ("Sub Kick", D),
        ("808 Kick", D),
        ("12-Snare_Top", D),
        ("Snare Bottom", D),
        ("Snr Btm", D),
        ("SN T", D),
        ("Snare Verb", D),
        ("Hat", D),
        ("HH", D),
        ("Hi-Hat", D),
        ("HiHat", D),
        ("OH L", D),
        ("OH R", D),
        ("OH_L", D),
        ("OHs", D),
        ("Overheads", D),
        ("Room Mics", D),
        ("Room L", D),
        ("Drum Amb", D),
        ("Tom 1", D),
        ("Tom1", D),
        ("Rack Tom", D),
        ("Floor Tom", D),
        ("Toms", D),
        ("Ride", D),
        ("Ride Cym", D),
        ("Crash", D),
        ("OHH", D),
        ("Timpani", D),
        ("Tabla", D),
        ("China", D),
        ("Tamb", D),
        ("Shaker", D),
        ("Conga Hi", D),
        ("Bongos", D),
        ("Cowbell", D),
        ("Claps", D),
        ("Clap 808", D),
        ("Perc Loop", D),
        ("Synth Perc", D),
        ("Drum Loop 1", D),
        ("Loop", D),
        ("Drums", D),
        ("Drum Mix", D),
        ("Kit", D),
        ("TR-808", D),
        ("Amb", D),
        ("Loop 1", D),
        ("Snare Hit", D),
        ("909", D),
        ("Kick Click", D),
        ("Track 07 - Snare Top", D),
        // Bass
        ("Bass", B),
        ("Bass DI", B),
        ("BassDI", B),
        ("Bass Amp", B),
        ("Bs DI", B),
        ("05 - Bass DI.wav", B),
        ("Sub", B),
        ("Sub Bass", B),
        ("808", B),
        ("808s", B),
        ("4-Synth Bass", B),
        ("Bass Synth", B),
        ("Moog Bass", B),
        ("Key Bass", B),
        ("Bass Gtr", B),
        ("Upright Bass", B),
        ("Double Bass", B),
        ("Acoustic Bass", B),
        ("Fretless", B),
        ("Bassline", B),
        ("TB-303", B),
        // Vocals
        ("Lead Vox", V),
        ("Audio 3 - Lead Vox", V),
        ("LeadVox2", V),
        ("Lead Vox Dbl", V),
        ("Lead Vocal Comp", V),
        ("Lead", V),
        ("Ld Vox", V),
        ("LdVox", V),
        ("Vox", V),
        ("VOX_Main", V),
        ("Vocals", V),
        ("Vox Verb", V),
        ("Vox Adlib 2", V),
        ("Adlib", V),
        ("Ad-Libs", V),
        ("BGV3", V),
        ("BGV Hi", V),
        ("BGVs", V),
        ("BV 1", V),
        ("BVs L", V),
        ("Backing Vox", V),
        ("Backs", V),
        ("BGV Mix", V),
        ("Choir", V),
        ("Harmony Hi", V),
        ("Harm 2", V),
        ("Harmonies", V),
        ("Dbl", V),
        ("Double", V),
        ("Chorus Vox", V),
        ("Verse Vox", V),
        ("Hook", V),
        ("Rap Verse", V),
        ("Spoken Word", V),
        ("Vox Chop", V),
        ("Gang Vox", V),
        ("Oohs", V),
        ("Bass Vox", V),
        ("Keys Vox", V),
        ("Gtr Vox", V),
        ("Vox Loop", V),
        ("Vox Room", V),
        ("Vox Delay", V),
        ("Lead 2", V),
        ("Vocoder", V),
        ("Acapella", V),
        // Instruments
        ("Gtr DI", I),
        ("Gtr Amp", I),
        ("Gtr Lead", I),
        ("Lead Gtr", I),
        ("Gtr Dbl", I),
        ("Ac Gtr", I),
        ("AGtr L", I),
        ("Acoustic", I),
        ("Elec Gtr 1", I),
        ("EGtr", I),
        ("Guitars", I),
        ("Nylon Gtr", I),
        ("Gtr Room", I),
        ("Banjo", I),
        ("Mandolin", I),
        ("Uke", I),
        ("Harp", I),
        ("Harmonica", I),
        ("Piano L", I),
        ("Pno R", I),
        ("Rhodes", I),
        ("Wurli", I),
        ("Organ", I),
        ("B3", I),
        ("Hammond Leslie", I),
        ("Clav", I),
        ("Keys", I),
        ("Lead Synth", I),
        ("Synth Lead", I),
        ("Pad Wide", I),
        ("Pads", I),
        ("Arp", I),
        ("Pluck", I),
        ("Choir Pad", I),
        ("Pad Bounce", I),
        ("Strings", I),
        ("String Section", I),
        ("Str Hi", I),
        ("Violin 1", I),
        ("Cello", I),
        ("Brass Stabs", I),
        ("Horns", I),
        ("Trumpet", I),
        ("Sax Solo", I),
        ("Flute", I),
        ("Bass Clarinet", I),
        ("Steel Drum", I),
        ("Celli", I),
        ("Mallets", I),
        ("Marimba", I),
        ("Vibes", I),
        ("Glock", I),
        ("Bells", I),
        ("Backing Track", I),
        ("Audio 1", I),
        ("Take 3", I),
        ("DI", I),
        ("Harmony Gtr", I),
        ("Reverse Gtr", I),
        ("Piano Room", I),
        ("Lead Keys", I),
        ("Gtr Swell", I),
        ("Vocoder Synth", I),
        ("DJ Scratch", I),
        // FX
        ("FX 1", F),
        ("SFX", F),
        ("Riser 1", F),
        ("Impact", F),
        ("Sweep Down", F),
        ("Whoosh", F),
        ("Downlifter", F),
        ("Uplifter", F),
        ("Noise", F),
        ("Foley", F),
        ("Vox FX", F),
        ("Synth Riser", F),
        ("Rev Crash", F),
        ("Reverse Cymbal", F),
        ("Verb Return", F),
        ("Delay Return", F),
        ("Reverb", F),
        ("Delay", F),
        ("Sub Drop", F),
        ("FX Hit", F),
        ("Texture", F),
        ("Vinyl Crackle", F),
        ("Crowd L", F),
        ("Gtr FX", F),
        ("Vox Sweep", F),
        ("Snare Riser", F),
        ("Aux 1", F),
        // In no stem
        ("Click", N),
        ("Click Track", N),
        ("Metronome", N),
        ("Met", N),
        ("Guide Vox", N),
        ("Guide", N),
        ("Scratch Vox", N),
        ("Ref Mix v3", N),
        ("Reference", N),
        ("Rough Mix", N),
        ("Mix", N),
        ("Master", N),
        ("Bounce", N),
        ("Print", N),
        ("Stereo Mix", N),
        ("2Mix", N),
        ("SMPTE", N),
        ("LTC", N),
        ("Timecode", N),
        ("Talkback", N),
        ("TB", N),
        ("Count In", N),
        ("Slate", N),
        ("Ref Vox", N),
        ("Mix Rev 2", N),
        ("Premaster", N),
    ];

    #[test]
    fn realistic_names_get_the_expected_role() {
        assert!(NAMES.len() >= 100, "only {} names", NAMES.len());
        let wrong: Vec<String> = NAMES
            .iter()
            .filter_map(|&(name, expected)| {
                let got = explain(name);
                (got.role != expected).then(|| {
                    format!(
                        "{name:?}: expected {expected:?}, got {:?} (rule {:?}, words {:?})",
                        got.role,
                        got.rule,
                        words(name)
                    )
                })
            })
            .collect();
        assert!(
            wrong.is_empty(),
            "{} misclassified:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn names_are_read_as_words() {
        let cases: &[(&str, &[&str])] = &[
            ("01 Kick In", &["01", "kick", "in"]),
            ("12-Snare_Top", &["12", "snare", "top"]),
            ("Kick In_01.wav", &["kick", "in", "01"]),
            // Every extension the decoder reads, and the few others DAWs leave on names.
            ("Gtr 2.MP4", &["gtr", "2"]),
            ("Pad.oga", &["pad"]),
            ("Vox.Opus", &["vox"]),
            ("Room.rf64", &["room"]),
            ("Piano.L", &["piano", "l"]),
            ("LeadVox2", &["lead", "vox", "2"]),
            ("BGV3", &["bgv", "3"]),
            ("Kick01", &["kick", "01"]),
            ("808Kick", &["808", "kick"]),
            ("OH_L", &["oh", "l"]),
            ("OHs", &["ohs"]),
            ("BVsL", &["bvs", "l"]),
            ("AGtr", &["a", "gtr"]),
            ("BassDI", &["bass", "di"]),
            ("DIBass", &["di", "bass"]),
            ("(Vox) [Main]", &["vox", "main"]),
            ("Audio 3 - Lead Vox", &["audio", "3", "lead", "vox"]),
            ("", &[]),
        ];
        for (name, expected) in cases {
            assert_eq!(words(name), *expected, "words of {name:?}");
        }
    }

    #[test]
    fn explain_reports_the_keyword_that_matched() {
        let cases: &[(&str, Option<Role>, &str)] = &[
            ("Kick In_01.wav", D, "kick"),
            ("Kick Sub", D, "kick sub"),
            ("Bass Drum", D, "bass drum"),
            ("4-Synth Bass", B, "synth bass"),
            ("Bass DI", B, "bass di"),
            ("LdVox", V, "ld vox"),
            ("Gtr Lead", I, "gtr"),
            ("Lead Synth", I, "lead synth"),
            ("Room Mics", D, "room mic"),
            ("Toms", D, "tom"),
            ("Hi-Hat", D, "hi hat"),
            ("B3", I, "b 3"),
            ("Ad-Libs", V, "ad lib"),
            ("TB-303", B, "tb 303"),
            ("Verb Return", F, "verb return"),
            ("Snare Verb", D, "snare"),
            ("Guide Vox", N, "guide"),
            ("Ref Mix v3", N, "ref"),
            ("Mix", N, "mix"),
            ("Audio 7", I, NO_RULE_MATCHED),
            ("", I, NO_RULE_MATCHED),
        ];
        for &(name, role, rule) in cases {
            assert_eq!(explain(name), Match { role, rule }, "explain({name:?})");
            assert_eq!(classify(name), role, "classify({name:?})");
        }
    }

    #[test]
    fn roles_have_distinct_names_and_colours_in_stem_order() {
        let names: Vec<_> = Role::ALL.iter().map(|r| r.stem_name()).collect();
        assert_eq!(names, ["Drums", "Bass", "Vocals", "Instruments", "FX"]);
        let colours: HashSet<_> = Role::ALL.iter().map(|r| r.color()).collect();
        assert_eq!(colours.len(), Role::ALL.len());
        for role in Role::ALL {
            let c = role.color();
            assert!(
                c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|h| h.is_ascii_hexdigit()),
                "{role:?} colour {c:?}"
            );
        }
    }

    #[test]
    fn every_keyword_is_matchable_unique_and_documented() {
        let doc_path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/grouping.md");
        let doc = std::fs::read_to_string(&doc_path)
            .unwrap_or_else(|e| panic!("{}: {e}", doc_path.display()));
        let mut seen = HashSet::new();
        for rule in RULES {
            for keyword in rule.keywords {
                assert!(
                    seen.insert(*keyword),
                    "keyword {keyword:?} is in the table twice"
                );
                assert_eq!(
                    words(keyword).join(" "),
                    *keyword,
                    "keyword {keyword:?} is not written as words() reads names"
                );
                assert!(
                    doc.contains(&format!("`{keyword}`")),
                    "keyword {keyword:?} is not documented in docs/grouping.md"
                );
                // A keyword alone names its own rule's role (no other rule outranks it).
                assert_eq!(explain(keyword).rule, *keyword, "explain({keyword:?})");
            }
        }
    }

    fn session(names: &[&str]) -> Session {
        let mut s = Session::new(48_000, Song::default());
        for (i, name) in names.iter().enumerate() {
            let id = TrackId(i as u32 + 1);
            s.tracks.push(Track::new(id, *name, format!("{name}.wav")));
        }
        s
    }

    fn stem_names(s: &Session) -> Vec<&str> {
        s.stems.iter().map(|st| st.name.as_str()).collect()
    }

    fn members(s: &Session, stem: &str) -> Vec<String> {
        s.stems
            .iter()
            .find(|st| st.name == stem)
            .map(|st| {
                st.tracks
                    .iter()
                    .filter_map(|id| s.track(*id))
                    .map(|t| t.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn auto_group_builds_the_stems_in_order_with_role_colours() {
        let mut s = session(&[
            "Click",
            "Kick In",
            "Lead Vox",
            "Bass DI",
            "Snare Top",
            "Gtr DI",
            "Riser 1",
            "BGV Hi",
            "Kick Out",
            "Rhodes",
            "Ref Mix v3",
            "808",
            "Impact",
        ]);
        auto_group(&mut s);
        assert_eq!(
            stem_names(&s),
            ["Drums", "Bass", "Vocals", "Instruments", "FX"]
        );
        for (stem, role) in s.stems.iter().zip(Role::ALL) {
            assert_eq!(stem.color, role.color(), "colour of {}", stem.name);
        }
        assert_eq!(members(&s, "Drums"), ["Kick In", "Snare Top", "Kick Out"]);
        assert_eq!(members(&s, "Bass"), ["Bass DI", "808"]);
        assert_eq!(members(&s, "Vocals"), ["Lead Vox", "BGV Hi"]);
        assert_eq!(members(&s, "Instruments"), ["Gtr DI", "Rhodes"]);
        assert_eq!(members(&s, "FX"), ["Riser 1", "Impact"]);
        let unassigned: Vec<_> = s.unassigned_tracks().map(|t| t.name.as_str()).collect();
        assert_eq!(unassigned, ["Click", "Ref Mix v3"]);
        assert_eq!(s.check(), Ok(()));
    }

    #[test]
    fn auto_group_always_makes_the_four_and_fx_only_when_needed() {
        let mut s = session(&["Lead Vox", "Guide Vox"]);
        auto_group(&mut s);
        assert_eq!(stem_names(&s), ["Drums", "Bass", "Vocals", "Instruments"]);
        assert!(members(&s, "Drums").is_empty());
        assert_eq!(members(&s, "Vocals"), ["Lead Vox"]);
        assert_eq!(s.check(), Ok(()));

        let mut empty = session(&[]);
        auto_group(&mut empty);
        assert_eq!(
            stem_names(&empty),
            ["Drums", "Bass", "Vocals", "Instruments"]
        );
        assert_eq!(empty.check(), Ok(()));
    }

    #[test]
    fn auto_group_replaces_existing_stems() {
        let mut s = session(&["Kick", "Pad", "Click", "FX 1"]);
        let old = s.add_stem("Everything");
        s.move_tracks(&[TrackId(1), TrackId(2), TrackId(3)], Some(old), None);
        s.stems[0].gain_db = -6.0;
        auto_group(&mut s);
        assert_eq!(
            stem_names(&s),
            ["Drums", "Bass", "Vocals", "Instruments", "FX"]
        );
        assert_eq!(
            s.stems.iter().map(|st| st.id.0).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert!(s.stems.iter().all(|st| st.gain_db == 0.0));
        assert_eq!(members(&s, "Drums"), ["Kick"]);
        assert_eq!(members(&s, "Instruments"), ["Pad"]);
        assert_eq!(members(&s, "FX"), ["FX 1"]);
        assert!(
            s.stem_of(TrackId(3)).is_none(),
            "the click left its old stem"
        );
        assert_eq!(s.check(), Ok(()));

        // Grouping again gives the same result.
        let once = s.clone();
        auto_group(&mut s);
        assert_eq!(s, once);
    }

    #[test]
    fn added_tracks_join_the_stem_of_their_role_or_a_new_one() {
        let mut s = Session::new(48_000, Song::default());
        s.tracks.push(Track::new(TrackId(1), "Kick", "k.wav"));
        auto_group(&mut s);
        s.stems.retain(|st| st.name != "Vocals");
        if let Some(d) = s.stems.iter_mut().find(|st| st.name == "Drums") {
            d.name = "Drum Kit".into();
        }
        for (id, name) in [(2, "Snare"), (3, "Lead Vox"), (4, "Room Noise")] {
            s.tracks
                .push(Track::new(TrackId(id), name, format!("{name}.wav")));
        }
        group_tracks(&mut s, &[TrackId(2), TrackId(3), TrackId(4)]);
        let drums = s.stems.iter().find(|st| st.name == "Drum Kit").unwrap();
        assert_eq!(drums.tracks, vec![TrackId(1), TrackId(2)]);
        let vocals = s.stems.iter().find(|st| st.name == "Vocals").unwrap();
        assert_eq!(
            (vocals.name.as_str(), &vocals.tracks),
            ("Vocals", &vec![TrackId(3)])
        );
        assert_eq!(vocals.color, Role::Vocals.color());
        let in_a_stem = s.stem_of(TrackId(4)).map(|st| st.name.clone());
        assert_eq!(
            in_a_stem,
            classify("Room Noise").map(|r| r.stem_name().to_owned())
        );
        assert!(s.check().is_ok());
    }
}
