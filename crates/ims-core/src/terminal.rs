//! Text on its way to a terminal. Records and history can hold anything an unverified
//! commit put there, so every human-readable line ims prints passes through [`escape`]:
//! control characters, bidi controls and invisible characters are shown as visible
//! escapes (`\e`, `\r`, `\u{202e}`) and can neither move the cursor, erase a line nor
//! reorder what the reader sees. JSON output is JSON and escapes on its own.

/// The visible escape for `c`, if `c` must not reach a terminal raw. Line feed and tab
/// are layout and pass; ZWJ/ZWNJ are letters of Persian, Indic scripts and emoji and pass.
fn escaped(c: char) -> Option<String> {
    let named = match c {
        '\u{1b}' => Some("\\e"),
        '\r' => Some("\\r"),
        '\0' => Some("\\0"),
        '\u{7}' => Some("\\a"),
        '\u{8}' => Some("\\b"),
        '\u{b}' => Some("\\v"),
        '\u{c}' => Some("\\f"),
        _ => None,
    };
    if let Some(n) = named {
        return Some(n.to_string());
    }
    let hidden = (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{061C}');
    hidden.then(|| format!("\\u{{{:x}}}", c as u32))
}

/// `text` with every character that could steer a terminal shown as a visible escape;
/// line breaks and tabs kept. Idempotent: an escape is plain text.
pub fn escape(text: &str) -> String {
    if !text.chars().any(|c| escaped(c).is_some()) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match escaped(c) {
            Some(e) => out.push_str(&e),
            None => out.push(c),
        }
    }
    out
}

/// [`escape`] for a value shown on one line (a title in a list, an audit delta): line
/// breaks and tabs are escaped too, so a value cannot forge a line of its own.
pub fn line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape(text).chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_escapes() {
        assert_eq!(escape("a\u{1b}[1A\r\u{1b}[2Kb"), "a\\e[1A\\r\\e[2Kb");
        assert_eq!(escape("x\u{202e}y\u{200b}z\u{9b}"), "x\\u{202e}y\\u{200b}z\\u{9b}");
        assert_eq!(escape("two\nlines\tok"), "two\nlines\tok");
        assert_eq!(escape("می\u{200c}خواهم 👩\u{200d}💻"), "می\u{200c}خواهم 👩\u{200d}💻");
        assert_eq!(line("a\nb\tc\u{1b}"), "a\\nb\\tc\\e");
        assert_eq!(escape(&escape("\u{1b}")), "\\e", "idempotent");
    }
}
