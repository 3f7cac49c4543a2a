//! The wire layer: Phoenix V2 frames and the JSON payloads livefire sends, written straight
//! into strings (docs/protocol.md §1.3, §2.3, §4, §5).
//!
//! Nothing here knows about views or connections: the channel and the view task call these
//! functions to read client frames and to write replies and pushes.

pub(crate) mod frame;
pub(crate) mod json;
pub(crate) mod payload;
