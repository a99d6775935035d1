//! Versioned bytes of partial states: `PEQS`, the format version (u16, little endian), the state kind (u8),
//! then the postcard encoding of the state. A state of another version or kind is refused with a message
//! instead of being misread (workers and driver must run the same payequity).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Error, Result};

const MAGIC: &[u8; 4] = b"PEQS";
/// Bumped whenever a state's layout changes.
pub const STATE_VERSION: u16 = 2;

/// What a state holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StateKind {
    OaxacaFacts = 1,
    OaxacaMoments = 2,
    OaxacaScores = 3,
    Gap = 4,
    OaxacaModels = 5,
    Transparency = 6,
    Periods = 7,
    EqualValue = 8,
    Audit = 9,
    /// A pass of an analysis' plan (what a distributed driver broadcasts to its workers).
    Pass = 10,
    RifOutcomes = 11,
    RifDensities = 12,
}

/// Encodes a state as versioned bytes.
pub fn encode_state<T: Serialize>(kind: StateKind, state: &T) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(64);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&STATE_VERSION.to_le_bytes());
    bytes.push(kind as u8);
    postcard::to_io(state, &mut bytes).map_err(|e| Error::Invalid(format!("cannot encode a partial state: {e}")))?;
    Ok(bytes)
}

/// Decodes versioned bytes made by [`encode_state`] for the same kind.
pub fn decode_state<T: DeserializeOwned>(kind: StateKind, bytes: &[u8]) -> Result<T> {
    if bytes.len() < 7 || &bytes[..4] != MAGIC {
        return Err(Error::Invalid("not a payequity partial state (the bytes do not start with PEQS)".into()));
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version != STATE_VERSION {
        return Err(Error::Invalid(format!(
            "partial state of format version {version}, but this payequity reads version {STATE_VERSION}: run the same \
             payequity version on the workers and the driver"
        )));
    }
    if bytes[6] != kind as u8 {
        return Err(Error::Invalid(format!(
            "partial state of kind {} where kind {} was expected",
            bytes[6], kind as u8
        )));
    }
    postcard::from_bytes(&bytes[7..]).map_err(|e| Error::Invalid(format!("corrupt partial state: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_refuse_other_kinds_and_versions() {
        let bytes = encode_state(StateKind::Gap, &(3u64, "x".to_string())).unwrap();
        let back: (u64, String) = decode_state(StateKind::Gap, &bytes).unwrap();
        assert_eq!(back, (3, "x".into()));
        assert!(decode_state::<(u64, String)>(StateKind::OaxacaFacts, &bytes).is_err());
        let mut old = bytes.clone();
        old[4] = 0;
        let message = decode_state::<(u64, String)>(StateKind::Gap, &old).unwrap_err().to_string();
        assert!(message.contains("format version 0"), "{message}");
        assert!(decode_state::<(u64, String)>(StateKind::Gap, b"junk").is_err());
    }
}
