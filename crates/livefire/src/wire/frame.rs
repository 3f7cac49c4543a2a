//! Phoenix V2 JSON framing: `[join_ref, ref, topic, event, payload]`.

use serde_json::Value;

use super::json::write_json_str;

/// A decoded client frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Frame {
    pub(crate) join_ref: Option<String>,
    pub(crate) msg_ref: Option<String>,
    pub(crate) topic: String,
    pub(crate) event: String,
    pub(crate) payload: Value,
}

/// Why a text frame was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// Not JSON at all.
    #[error("frame is not valid JSON")]
    NotJson,
    /// JSON, but not a 5-element array with string topic and event.
    /// Carries the refs and topic when they could be read, so the error can be answered.
    #[error("frame is not a [join_ref, ref, topic, event, payload] array")]
    BadEnvelope {
        join_ref: Option<String>,
        msg_ref: Option<String>,
        topic: Option<String>,
    },
}

fn opt_ref(v: &Value) -> Result<Option<String>, ()> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        // Refs are strings; tolerate numbers for non-JS clients.
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(()),
    }
}

impl Frame {
    /// Parses one text frame.
    pub(crate) fn parse(text: &str) -> Result<Self, FrameError> {
        let value: Value = serde_json::from_str(text).map_err(|_| FrameError::NotJson)?;
        let Value::Array(mut items) = value else {
            return Err(FrameError::BadEnvelope {
                join_ref: None,
                msg_ref: None,
                topic: None,
            });
        };
        let join_ref = items.first().and_then(|v| opt_ref(v).ok().flatten());
        let msg_ref = items.get(1).and_then(|v| opt_ref(v).ok().flatten());
        let topic = items.get(2).and_then(Value::as_str).map(str::to_owned);
        let bad = || FrameError::BadEnvelope {
            join_ref: join_ref.clone(),
            msg_ref: msg_ref.clone(),
            topic: topic.clone(),
        };
        if items.len() != 5 {
            return Err(bad());
        }
        let payload = items.pop().unwrap_or(Value::Null);
        let event = match &items[3] {
            Value::String(e) => e.clone(),
            _ => return Err(bad()),
        };
        let (Ok(jr), Ok(r)) = (opt_ref(&items[0]), opt_ref(&items[1])) else {
            return Err(bad());
        };
        let Some(topic) = topic.clone() else {
            return Err(bad());
        };
        Ok(Self {
            join_ref: jr,
            msg_ref: r,
            topic,
            event,
            payload,
        })
    }
}

/// A decoded binary client frame (Phoenix V2 binary push: upload chunks):
/// `[kind=0][join_ref len][ref len][topic len][event len]` then those strings, then the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BinaryFrame<'a> {
    pub(crate) join_ref: Option<&'a str>,
    pub(crate) msg_ref: Option<&'a str>,
    pub(crate) topic: &'a str,
    pub(crate) event: &'a str,
    pub(crate) payload: &'a [u8],
}

/// Why a binary frame was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum BinaryFrameError {
    #[error("binary frame is not a push (kind {0})")]
    Kind(u8),
    #[error("binary frame is truncated")]
    Truncated,
    #[error("binary frame header is not UTF-8")]
    NotUtf8,
}

impl<'a> BinaryFrame<'a> {
    /// Parses one binary frame.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, BinaryFrameError> {
        let [kind, lens @ ..] = bytes else {
            return Err(BinaryFrameError::Truncated);
        };
        if *kind != 0 {
            return Err(BinaryFrameError::Kind(*kind));
        }
        let [jr, r, t, e, rest @ ..] = lens else {
            return Err(BinaryFrameError::Truncated);
        };
        let mut rest = rest;
        let mut take = |len: u8| -> Result<&'a str, BinaryFrameError> {
            let len = usize::from(len);
            if rest.len() < len {
                return Err(BinaryFrameError::Truncated);
            }
            let (head, tail) = rest.split_at(len);
            rest = tail;
            std::str::from_utf8(head).map_err(|_| BinaryFrameError::NotUtf8)
        };
        let join_ref = take(*jr)?;
        let msg_ref = take(*r)?;
        let topic = take(*t)?;
        let event = take(*e)?;
        let non_empty = |s: &'a str| (!s.is_empty()).then_some(s);
        Ok(Self {
            join_ref: non_empty(join_ref),
            msg_ref: non_empty(msg_ref),
            topic,
            event,
            payload: rest,
        })
    }
}

fn write_opt(s: Option<&str>, out: &mut String) {
    match s {
        Some(s) => write_json_str(s, out),
        None => out.push_str("null"),
    }
}

/// Writes the frame head `[jr,ref,topic,event,` (the caller appends the payload and `]`).
pub(crate) fn write_head(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    event: &str,
    out: &mut String,
) {
    out.push('[');
    write_opt(join_ref, out);
    out.push(',');
    write_opt(msg_ref, out);
    out.push(',');
    write_json_str(topic, out);
    out.push(',');
    write_json_str(event, out);
    out.push(',');
}

/// A `phx_reply` frame whose response object is given as raw JSON.
pub(crate) fn reply(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: &str,
    ok: bool,
    response_json: &str,
) -> String {
    reply_any_topic(join_ref, msg_ref, Some(topic), ok, response_json)
}

/// A `phx_reply` whose topic may be unknown (`null`): the answer to a frame with a bad topic.
pub(crate) fn reply_any_topic(
    join_ref: Option<&str>,
    msg_ref: Option<&str>,
    topic: Option<&str>,
    ok: bool,
    response_json: &str,
) -> String {
    let mut out = String::with_capacity(64 + topic.map_or(4, str::len) + response_json.len());
    out.push('[');
    write_opt(join_ref, &mut out);
    out.push(',');
    write_opt(msg_ref, &mut out);
    out.push(',');
    write_opt(topic, &mut out);
    out.push_str(",\"phx_reply\",");
    out.push_str(if ok {
        "{\"status\":\"ok\",\"response\":"
    } else {
        "{\"status\":\"error\",\"response\":"
    });
    out.push_str(response_json);
    out.push_str("}]");
    out
}

/// A server push `[jr, null, topic, event, payload]` with a raw JSON payload.
pub(crate) fn push(join_ref: Option<&str>, topic: &str, event: &str, payload_json: &str) -> String {
    let mut out = String::with_capacity(32 + topic.len() + payload_json.len());
    write_head(join_ref, None, topic, event, &mut out);
    out.push_str(payload_json);
    out.push(']');
    out
}

/// `[jr, jr, topic, "phx_error", {...}]`: the view crashed; the client rejoins it.
pub(crate) fn error(join_ref: &str, topic: &str) -> String {
    let mut out = String::with_capacity(48 + topic.len());
    write_head(Some(join_ref), Some(join_ref), topic, "phx_error", &mut out);
    out.push_str("{\"reason\":\"crash\"}]");
    out
}

/// `[jr, jr, topic, "phx_close", {}]`: the view stopped (left, redirected or replaced by a
/// duplicate join); the client does not rejoin it.
pub(crate) fn close(join_ref: &str, topic: &str) -> String {
    let mut out = String::with_capacity(40 + topic.len());
    write_head(Some(join_ref), Some(join_ref), topic, "phx_close", &mut out);
    out.push_str("{}]");
    out
}

/// `{"reason":"..."}`
pub(crate) fn reason(reason: &str) -> String {
    let mut out = String::from("{\"reason\":");
    write_json_str(reason, &mut out);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_pushes_parse_like_the_client_encodes_them() {
        // The client's serializer: kind 0, four lengths, the strings, the payload.
        let mut bytes = vec![0, 1, 2, 5, 5];
        bytes.extend_from_slice(b"412lvu:0chunk");
        bytes.extend_from_slice(&[0, 159, 255]);
        let frame = BinaryFrame::parse(&bytes).unwrap();
        assert_eq!(
            frame,
            BinaryFrame {
                join_ref: Some("4"),
                msg_ref: Some("12"),
                topic: "lvu:0",
                event: "chunk",
                payload: &[0, 159, 255],
            }
        );
        assert_eq!(BinaryFrame::parse(&[]), Err(BinaryFrameError::Truncated));
        assert_eq!(
            BinaryFrame::parse(&[1, 0, 0, 0, 0]),
            Err(BinaryFrameError::Kind(1))
        );
        assert_eq!(
            BinaryFrame::parse(&[0, 0, 0, 9]),
            Err(BinaryFrameError::Truncated)
        );
        assert_eq!(
            BinaryFrame::parse(&[0, 0, 0, 9, 0, b'a']),
            Err(BinaryFrameError::Truncated)
        );
        assert_eq!(
            BinaryFrame::parse(&[0, 0, 0, 1, 0, 0xff]),
            Err(BinaryFrameError::NotUtf8)
        );
    }

    #[test]
    fn parses_a_join_frame() {
        let f = Frame::parse(r#"["4","4","lv:phx-1","phx_join",{"url":"http://x/"}]"#).unwrap();
        assert_eq!(f.join_ref.as_deref(), Some("4"));
        assert_eq!(f.msg_ref.as_deref(), Some("4"));
        assert_eq!(f.topic, "lv:phx-1");
        assert_eq!(f.event, "phx_join");
        assert_eq!(f.payload["url"], "http://x/");
    }

    #[test]
    fn parses_null_join_ref() {
        let f = Frame::parse(r#"[null,"8","phoenix","heartbeat",{}]"#).unwrap();
        assert_eq!(f.join_ref, None);
        assert_eq!(f.msg_ref.as_deref(), Some("8"));
    }

    #[test]
    fn rejects_malformed_frames() {
        assert_eq!(Frame::parse("{not json"), Err(FrameError::NotJson));
        assert!(matches!(
            Frame::parse(r#"["1","2","lv:x","event"]"#),
            Err(FrameError::BadEnvelope {
                msg_ref: Some(_),
                topic: Some(_),
                ..
            })
        ));
        assert!(matches!(
            Frame::parse(r#"{"a":1}"#),
            Err(FrameError::BadEnvelope { .. })
        ));
        assert!(matches!(
            Frame::parse(r#"["1","2",null,"event",{}]"#),
            Err(FrameError::BadEnvelope { topic: None, .. })
        ));
        assert!(matches!(
            Frame::parse(r#"["1","2","lv:x",5,{}]"#),
            Err(FrameError::BadEnvelope { .. })
        ));
    }

    #[test]
    fn writes_replies_and_pushes() {
        assert_eq!(
            reply(None, Some("8"), "phoenix", true, "{}"),
            r#"[null,"8","phoenix","phx_reply",{"status":"ok","response":{}}]"#
        );
        assert_eq!(
            push(Some("4"), "lv:a", "diff", r#"{"0":"1"}"#),
            r#"["4",null,"lv:a","diff",{"0":"1"}]"#
        );
        assert_eq!(reason("stale"), r#"{"reason":"stale"}"#);
        assert_eq!(close("4", "lv:a"), r#"["4","4","lv:a","phx_close",{}]"#);
        assert_eq!(
            error("4", "lv:a"),
            r#"["4","4","lv:a","phx_error",{"reason":"crash"}]"#
        );
    }
}
