//! [`VerifyCsrfLayer`].

use tower::Layer;

use super::VerifyCsrf;

/// Tower layer that rejects unsafe requests (not `GET`/`HEAD`/`OPTIONS`) lacking a valid CSRF
/// token with 403. Must sit inside [`crate::session::SessionLayer`] (add it with `.layer()`
/// *before* the session layer). See the [module docs](super).
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyCsrfLayer {
    _private: (),
}

impl VerifyCsrfLayer {
    /// The layer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for VerifyCsrfLayer {
    type Service = VerifyCsrf<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyCsrf::new(inner)
    }
}
