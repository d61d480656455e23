//! WeChat's message XML: what a follower sent (消息推送: text, image, voice,
//! video, location, link, and events such as subscribe) and the passive
//! reply (被动回复: a text message answered in the same HTTP exchange).

/// One message WeChat delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The account's original id (`gh_…`): the reply's sender.
    pub to: String,
    /// The follower's openid.
    pub from: String,
    /// Seconds since the epoch, as WeChat sent it.
    pub create_time: i64,
    /// `text`, `image`, `voice`, `video`, `shortvideo`, `location`, `link`,
    /// `event`, …
    pub msg_type: String,
    /// The text of a text message.
    pub content: Option<String>,
    pub msg_id: Option<String>,
    /// The event of an event message (`subscribe`, `unsubscribe`, `CLICK`, …).
    pub event: Option<String>,
}

/// Why a body is not a message kesu can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("the root element is not <xml>")]
    Root,
    #[error("{0} is missing or not valid")]
    Field(&'static str),
    /// The account encrypts its messages (安全模式): only plaintext mode
    /// (明文模式) is supported.
    #[error("encrypted message (safe mode is not supported; set the account to plaintext mode)")]
    Encrypted,
}

/// An openid or account id: letters, digits, `_` and `-`, at most 64.
fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Inbound {
    /// Reads a delivered message. DTDs are refused (roxmltree's default),
    /// so no entity can expand.
    ///
    /// # Errors
    /// [`Unreadable`], naming what is wrong.
    pub fn parse(body: &[u8]) -> Result<Inbound, Unreadable> {
        let text = std::str::from_utf8(body).map_err(|e| Unreadable::Xml(e.to_string()))?;
        let doc = roxmltree::Document::parse(text).map_err(|e| Unreadable::Xml(e.to_string()))?;
        let root = doc.root_element();
        if root.tag_name().name() != "xml" {
            return Err(Unreadable::Root);
        }
        let field = |name: &str| {
            root.children()
                .find(|n| n.is_element() && n.tag_name().name() == name)
                .map(|n| {
                    n.children()
                        .filter(|c| c.is_text())
                        .filter_map(|c| c.text())
                        .collect::<String>()
                })
        };
        let msg_type = field("MsgType").map(|s| s.trim().to_owned());
        if msg_type.is_none() && field("Encrypt").is_some() {
            return Err(Unreadable::Encrypted);
        }
        let msg_type = msg_type
            .filter(|t| is_id(t))
            .ok_or(Unreadable::Field("MsgType"))?;
        let to = field("ToUserName")
            .map(|s| s.trim().to_owned())
            .filter(|s| is_id(s))
            .ok_or(Unreadable::Field("ToUserName"))?;
        let from = field("FromUserName")
            .map(|s| s.trim().to_owned())
            .filter(|s| is_id(s))
            .ok_or(Unreadable::Field("FromUserName"))?;
        let create_time = field("CreateTime")
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|t| *t >= 0)
            .ok_or(Unreadable::Field("CreateTime"))?;
        let msg_id = match field("MsgId").map(|s| s.trim().to_owned()) {
            Some(id) if is_id(&id) => Some(id),
            Some(_) => return Err(Unreadable::Field("MsgId")),
            None => None,
        };
        let event = field("Event").map(|s| s.trim().to_owned());
        if msg_type == "event" && event.as_deref().is_none_or(|e| !is_id(e)) {
            return Err(Unreadable::Field("Event"));
        }
        let content = field("Content");
        if msg_type == "text" && content.is_none() {
            return Err(Unreadable::Field("Content"));
        }
        Ok(Inbound {
            to,
            from,
            create_time,
            msg_type,
            content,
            msg_id,
            event,
        })
    }

    /// The key a retry of this message has too: its MsgId, or for an event
    /// (which has none) the event, the follower and the time, as WeChat
    /// advises (`event:subscribe:<openid>:<CreateTime>`).
    pub fn key(&self) -> String {
        match &self.msg_id {
            Some(id) if self.msg_type != "event" => id.clone(),
            _ => format!(
                "{}:{}:{}:{}",
                self.msg_type,
                self.event.as_deref().unwrap_or_default(),
                self.from,
                self.create_time
            ),
        }
    }

    /// The last four characters of the openid, for logs and names.
    pub fn follower_tail(&self) -> &str {
        let n = self.from.len();
        &self.from[n.saturating_sub(4)..]
    }
}

/// Text inside CDATA: a `]]>` in it is split over two sections.
fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

/// The passive reply to `inbound`: a text message from the account back to
/// the follower.
pub fn text_reply(inbound: &Inbound, content: &str, now_secs: i64) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{now_secs}</CreateTime>\
         <MsgType><![CDATA[text]]></MsgType><Content>{}</Content></xml>",
        cdata(&inbound.from),
        cdata(&inbound.to),
        cdata(content)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "<xml><ToUserName><![CDATA[gh_123]]></ToUserName><FromUserName><![CDATA[oABC_def-1234]]></FromUserName>\
        <CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[刹车 <异响>]]></Content>\
        <MsgId>1234567890123456</MsgId></xml>";

    #[test]
    fn reads_a_text_message() {
        let m = Inbound::parse(TEXT.as_bytes()).expect("a message");
        assert_eq!(m.to, "gh_123");
        assert_eq!(m.from, "oABC_def-1234");
        assert_eq!(m.create_time, 1_348_831_860);
        assert_eq!(m.content.as_deref(), Some("刹车 <异响>"));
        assert_eq!(m.key(), "1234567890123456");
        assert_eq!(m.follower_tail(), "1234");
    }

    #[test]
    fn refuses_what_is_not_a_message() {
        for bad in [
            "",
            "<xml>",
            "<other/>",
            "<xml><MsgType>text</MsgType></xml>",
            "<!DOCTYPE xml [<!ENTITY a \"aaaa\">]><xml>&a;</xml>",
        ] {
            assert!(Inbound::parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert_eq!(
            Inbound::parse(b"<xml><ToUserName>gh</ToUserName><Encrypt>abc</Encrypt></xml>"),
            Err(Unreadable::Encrypted)
        );
    }

    #[test]
    fn the_reply_escapes_cdata_ends() {
        let m = Inbound::parse(TEXT.as_bytes()).expect("a message");
        let xml = text_reply(&m, "a]]>b", 1);
        let doc = roxmltree::Document::parse(&xml).expect("well-formed");
        let content = doc
            .descendants()
            .find(|n| n.has_tag_name("Content"))
            .map(|n| n.children().filter_map(|c| c.text()).collect::<String>());
        assert_eq!(content.as_deref(), Some("a]]>b"));
        assert!(xml.contains("<ToUserName><![CDATA[oABC_def-1234]]></ToUserName>"));
    }
}
