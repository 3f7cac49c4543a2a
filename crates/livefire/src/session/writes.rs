//! Session writes recorded by a live view ([`Socket::put_session`](crate::SocketCore::put_session)
//! and friends), applied in order to the browser's [`Session`] on its next HTTP request.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Session, SessionError};

/// One write, applied in the order the view made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Write {
    /// `Session::insert(key, value)`.
    Put { key: String, value: Value },
    /// `Session::remove(key)`.
    Delete { key: String },
    /// `Session::clear()`: all data removed; id and CSRF secret stay.
    Clear,
    /// `Session::renew()`: a new id and CSRF secret, all data cleared (fixation defence).
    Renew,
    /// `Session::set_persistent(max_age)`, in seconds.
    Persist { max_age: Option<u64> },
}

/// The writes a view has made and not yet handed over.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct SessionWrites(pub(crate) Vec<Write>);

impl SessionWrites {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn push(&mut self, write: Write) {
        self.0.push(write);
    }

    /// Applies every write to `session`, in order. A value that would make the cookie too
    /// large is not stored (the rest still is) and reported.
    pub(crate) fn apply(self, session: &Session) -> Result<(), SessionError> {
        let mut result = Ok(());
        for write in self.0 {
            match write {
                Write::Put { key, value } => {
                    if let Err(err) = session.insert(&key, value) {
                        tracing::error!(key, %err, "session write from a live view not stored");
                        result = Err(err);
                    }
                }
                Write::Delete { key } => {
                    session.remove(&key);
                }
                Write::Clear => session.clear(),
                Write::Renew => session.renew(),
                Write::Persist { max_age } => {
                    session.set_persistent(max_age.map(std::time::Duration::from_secs));
                }
            }
        }
        result
    }
}
