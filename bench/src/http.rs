//! A minimal HTTP/1.1 `GET` over a keep-alive loopback connection (the dead render), and the
//! bits of the page a LiveView client reads.

use std::io;
use std::net::Ipv4Addr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The server address every connection goes to. Loopback only.
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Largest response body accepted (the dioxus page is ~40 KB).
const MAX_BODY: usize = 1 << 20;

/// Opens a TCP connection from `src` (a 127.x address) to the server on `port`.
pub async fn connect(src: Ipv4Addr, port: u16) -> io::Result<TcpStream> {
    assert!(src.is_loopback(), "source address must be loopback");
    let socket = TcpSocket::new_v4()?;
    socket.bind((src, 0).into())?;
    let stream = socket.connect((SERVER_IP, port).into()).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A response: status, the `name=value` part of every `Set-Cookie`, the body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub cookies: Vec<String>,
    pub body: String,
    /// The server asked to close the connection.
    pub close: bool,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    if buf.len() + n > MAX_BODY {
        return Err(bad("response too large"));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// `GET path` on an open keep-alive connection.
pub async fn get(
    stream: &mut TcpStream,
    port: u16,
    path: &str,
    cookie: Option<&str>,
) -> io::Result<Response> {
    request(stream, port, &Req::get(path, cookie)).await
}

/// `POST path` with an empty body on an open keep-alive connection.
pub async fn post(stream: &mut TcpStream, port: u16, path: &str) -> io::Result<Response> {
    let req = Req {
        method: "POST",
        ..Req::get(path, None)
    };
    request(stream, port, &req).await
}

/// One keep-alive HTTP connection from a given source address, reopened when the server
/// closed it.
#[derive(Debug)]
pub struct KeepAlive {
    src: Ipv4Addr,
    port: u16,
    stream: Option<TcpStream>,
}

impl KeepAlive {
    pub fn new(src: Ipv4Addr, port: u16) -> Self {
        Self {
            src,
            port,
            stream: None,
        }
    }

    /// Drops the connection (the next request opens a new one).
    pub fn close(&mut self) {
        self.stream = None;
    }

    /// Sends `req`; a kept-alive connection the server closed in the meantime fails at once,
    /// so that failure is retried once on a fresh connection, as browsers do.
    pub async fn send(&mut self, req: &Req<'_>) -> io::Result<Response> {
        for attempt in 0..2 {
            let reused = self.stream.is_some();
            if !reused {
                self.stream = Some(connect(self.src, self.port).await?);
            }
            let Some(stream) = self.stream.as_mut() else {
                continue;
            };
            match request(stream, self.port, req).await {
                Ok(res) => {
                    if res.close {
                        self.stream = None;
                    }
                    return Ok(res);
                }
                Err(e) => {
                    self.stream = None;
                    if !reused || attempt == 1 {
                        return Err(e);
                    }
                }
            }
        }
        Err(io::Error::other("unreachable"))
    }
}

/// One request: method, path, headers a browser's `fetch`/XHR would send, body.
#[derive(Debug, Clone, Copy)]
pub struct Req<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub cookie: Option<&'a str>,
    pub accept: &'a str,
    /// `Content-Type` of the body (none: no header).
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl<'a> Req<'a> {
    /// A `GET` of a page (`Accept: text/html`).
    pub fn get(path: &'a str, cookie: Option<&'a str>) -> Self {
        Self {
            method: "GET",
            path,
            cookie,
            accept: "text/html",
            content_type: None,
            body: b"",
        }
    }
}

/// Sends `req` on an open keep-alive connection and reads the whole response.
pub async fn request(stream: &mut TcpStream, port: u16, req: &Req<'_>) -> io::Result<Response> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: livefire-bench\r\nAccept: {}\r\n",
        req.method, req.path, req.accept
    );
    if req.method != "GET" || !req.body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", req.body.len()));
    }
    if let Some(content_type) = req.content_type {
        head.push_str("Content-Type: ");
        head.push_str(content_type);
        head.push_str("\r\n");
    }
    if let Some(cookie) = req.cookie {
        head.push_str("Cookie: ");
        head.push_str(cookie);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(req.body);
    stream.write_all(&bytes).await?;

    let mut buf = Vec::with_capacity(8 * 1024);
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        fill(stream, &mut buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| bad("head not utf-8"))?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let mut length = None;
    let mut chunked = false;
    let mut close = false;
    let mut cookies = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => close = value.eq_ignore_ascii_case("close"),
            "set-cookie" => {
                let pair = value.split(';').next().unwrap_or("").trim();
                if !pair.is_empty() && !value.to_ascii_lowercase().contains("max-age=0") {
                    cookies.push(pair.to_owned());
                }
            }
            _ => {}
        }
    }
    let body = if chunked {
        let mut body = Vec::new();
        let mut pos = head_end;
        loop {
            let line_end = loop {
                if let Some(i) = find(&buf[pos..], b"\r\n") {
                    break pos + i;
                }
                fill(stream, &mut buf).await?;
            };
            let size_str = std::str::from_utf8(&buf[pos..line_end]).map_err(|_| bad("chunk"))?;
            let size = usize::from_str_radix(size_str.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("chunk size"))?;
            let data = line_end + 2;
            while buf.len() < data + size + 2 {
                fill(stream, &mut buf).await?;
            }
            if size == 0 {
                break;
            }
            body.extend_from_slice(&buf[data..data + size]);
            pos = data + size + 2;
        }
        body
    } else {
        let len = length.unwrap_or(0);
        while buf.len() < head_end + len {
            fill(stream, &mut buf).await?;
        }
        buf[head_end..head_end + len].to_vec()
    };
    Ok(Response {
        status,
        cookies,
        body: String::from_utf8(body).map_err(|_| bad("body not utf-8"))?,
        close,
    })
}

/// The tag (`<...>`) around byte `at` of `html`.
fn tag_around(html: &str, at: usize) -> Option<&str> {
    let start = html[..at].rfind('<')?;
    let end = html[at..].find('>')? + at;
    Some(&html[start..=end])
}

/// The value of attribute `name` in one tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    for quote in ['"', '\''] {
        let needle = format!(" {name}={quote}");
        if let Some(i) = tag.find(&needle) {
            let start = i + needle.len();
            let end = tag[start..].find(quote)? + start;
            return Some(unescape(&tag[start..end]));
        }
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// What the official client reads from a dead-rendered LiveView page.
#[derive(Debug, Clone)]
pub struct LivePage {
    pub id: String,
    pub session: String,
    pub static_token: Option<String>,
    pub csrf: String,
}

impl LivePage {
    /// Finds the root live container and the CSRF meta tag.
    pub fn parse(html: &str) -> Option<Self> {
        let at = html.find(" data-phx-session=")?;
        let tag = tag_around(html, at)?;
        let csrf_at = html.find("name=\"csrf-token\"")?;
        let csrf_tag = tag_around(html, csrf_at)?;
        Some(Self {
            id: attr(tag, "id")?,
            session: attr(tag, "data-phx-session")?,
            static_token: attr(tag, "data-phx-static").filter(|s| !s.is_empty()),
            csrf: attr(csrf_tag, "content")?,
        })
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_live_page() {
        let html = r#"<html><head><meta name="csrf-token" content="abc&amp;d"></head>
<body><div id="phx-X1" data-phx-main data-phx-session="S.1" data-phx-static="T.2">x</div></body></html>"#;
        let page = LivePage::parse(html).unwrap();
        assert_eq!(page.id, "phx-X1");
        assert_eq!(page.session, "S.1");
        assert_eq!(page.static_token.as_deref(), Some("T.2"));
        assert_eq!(page.csrf, "abc&d");
    }

    #[test]
    fn static_token_is_optional() {
        let html = r#"<meta content="c" name="csrf-token"><div data-phx-main="true" data-phx-session="s" id="phx-a"></div>"#;
        let page = LivePage::parse(html).unwrap();
        assert_eq!(page.id, "phx-a");
        assert_eq!(page.static_token, None);
        assert_eq!(page.csrf, "c");
    }

    #[test]
    fn encodes_queries() {
        assert_eq!(encode_query("a+b/c=="), "a%2Bb%2Fc%3D%3D");
        assert_eq!(encode_query("Az09-_.~"), "Az09-_.~");
    }
}
