use thiserror::Error;

#[derive(Debug, Error)]
pub enum EffectError {
    /// An effect's parameter is out of range (a hand-edited session file, say).
    #[error("effect {position} ({effect}): {problem}")]
    BadParameter {
        position: usize,
        effect: &'static str,
        problem: String,
    },
}
