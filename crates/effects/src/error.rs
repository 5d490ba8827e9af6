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
    /// The same, naming whose chain it is in ("track \"Kick\"", "master"). The inner
    /// error is part of this message, not a cause to print again.
    #[error("{owner}: {inner}")]
    In {
        owner: String,
        inner: Box<EffectError>,
    },
}

impl EffectError {
    /// This error, said of `owner`'s chain.
    pub fn within(self, owner: String) -> Self {
        EffectError::In {
            owner,
            inner: Box::new(self),
        }
    }
}
