//! The URL of a live page: [`Params`] (path, path parameters, query) and the small URL helpers
//! the runtime needs.

use std::collections::HashMap;

/// The URL of the current page: path, path parameters and query.
///
/// ```
/// let p = livefire::Params::from_uri("/posts/7?page=2&q=a%20b", [("id".to_owned(), "7".to_owned())].into());
/// assert_eq!(p.uri(), "/posts/7?page=2&q=a%20b");
/// assert_eq!(p.path(), "/posts/7");
/// assert_eq!(p.get("id"), Some("7"));
/// assert_eq!(p.query("q"), Some("a b"));
/// assert_eq!(p.query_pairs()[0], ("page".to_owned(), "2".to_owned()));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Params {
    uri: String,
    path_len: usize,
    path_params: HashMap<String, String>,
    query: Vec<(String, String)>,
}

impl Params {
    /// From a path-and-query string and the matched path parameters.
    pub fn from_uri(uri: &str, path_params: HashMap<String, String>) -> Self {
        let path_len = uri.find(['?', '#']).unwrap_or(uri.len());
        let query_str = uri[path_len..].trim_start_matches('?');
        let query_str = query_str.split('#').next().unwrap_or("");
        let query = form_urlencoded::parse(query_str.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self {
            uri: uri.to_owned(),
            path_len,
            path_params,
            query,
        }
    }

    /// The path and query, e.g. `/posts/7?page=2`.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The path, e.g. `/posts/7`.
    pub fn path(&self) -> &str {
        &self.uri[..self.path_len]
    }

    /// A path parameter (`/posts/{id}`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.path_params.get(name).map(String::as_str)
    }

    /// The first query parameter with this name.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All query parameters in order.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }
}

/// The path and query of an absolute or relative URL (`http://host/a?b` → `/a?b`).
pub(crate) fn path_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_of_strips_scheme_and_host() {
        assert_eq!(path_of("http://localhost:4000/a?b=1"), "/a?b=1");
        assert_eq!(path_of("http://localhost:4000"), "/");
        assert_eq!(path_of("/x"), "/x");
    }
}
