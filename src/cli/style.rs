//! Colour and tables for human output. Colour is used only where it can be seen: with
//! `--color auto` (the default) only when stdout is a terminal, `NO_COLOR` is unset or
//! empty (<https://no-color.org>) and `TERM` is not `dumb`; `--color always` and
//! `--color never` decide outright. `--json` output never has colour.
//!
//! Every value put in a table goes through [`crate::terminal::line`] first, so what a
//! record holds cannot steer the terminal; the only escape sequences printed are the
//! ones added here.

use std::io::IsTerminal;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    /// Always colour (also through a pipe, e.g. into `less -R`).
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether to colour, from the choice, the environment and stdout.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

/// Paints text when colour is on.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub on: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.on && !text.is_empty() {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// A value coloured by what it means: high priority, breaches and bad signatures
    /// red; medium, at-risk and open yellow; met, good and closed green.
    pub fn value(self, text: &str) -> String {
        let word = text.trim();
        let code = match word {
            "high" | "breached" | "missed" | "bad" | "unknown_key" | "unsigned" | "escalated" | "fail" => "31",
            "medium" | "at_risk" | "open" | "pending_vendor" | "pending" => "33",
            "met" | "good" | "closed" | "resolved" | "ok" | "pass" => "32",
            _ => return text.to_string(),
        };
        // Padding stays outside the colour so columns line up.
        let start = text.find(word).unwrap_or(0);
        format!("{}{}{}", &text[..start], self.paint(code, word), &text[start + word.len()..])
    }
}

/// A table: a header row and rows of cells (already escaped), every column but the last
/// padded to its widest cell. `colour` picks the columns whose values are coloured.
pub fn table(style: Style, header: &[&str], rows: &[Vec<String>], coloured: &[usize]) -> String {
    let n = header.len();
    let mut width = header.iter().map(|h| h.chars().count()).collect::<Vec<_>>();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(n) {
            width[i] = width[i].max(cell.chars().count());
        }
    }
    let pad = |i: usize, text: &str| {
        if i + 1 == n {
            text.to_string()
        } else {
            format!("{text}{}", " ".repeat(width[i] - text.chars().count()))
        }
    };
    let mut out = String::new();
    let head: Vec<String> = header.iter().enumerate().map(|(i, h)| pad(i, h)).collect();
    out.push_str(&style.bold(head.join("  ").trim_end()));
    out.push('\n');
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .take(n)
            .map(|(i, c)| {
                let padded = pad(i, c);
                if coloured.contains(&i) {
                    style.value(&padded)
                } else {
                    padded
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_pads_columns_and_colours_only_when_on() {
        let rows = vec![vec!["INC-1".to_string(), "high".into(), "Checkout down".into()]];
        let plain = table(Style { on: false }, &["ID", "PRIORITY", "TITLE"], &rows, &[1]);
        assert_eq!(plain, "ID     PRIORITY  TITLE\nINC-1  high      Checkout down\n");
        let coloured = table(Style { on: true }, &["ID", "PRIORITY", "TITLE"], &rows, &[1]);
        assert!(coloured.contains("\u{1b}[31mhigh\u{1b}[0m    "), "{coloured:?}");
        assert!(coloured.starts_with("\u{1b}[1mID"), "{coloured:?}");
    }

    #[test]
    fn never_and_always_decide_outright() {
        assert!(!ColorChoice::Never.enabled());
        assert!(ColorChoice::Always.enabled());
    }
}
