//! Every on-disk cache ims keeps, in one place: one folder (`.git/ims/cache/`, never
//! cloned, fetched or committed), one framing, atomic writes.
//!
//! A cache file starts with one header line, `ims-cache <name>/<version> <ims version>`,
//! and its body follows. A file whose header is not the current one (another format
//! version, another ims, garbled) reads as empty, so a cache can only ever cost time:
//! whatever it holds is rebuilt. Whole files are written aside and renamed; appends add
//! whole lines to a file whose header is current. `ims doctor` lists the caches
//! ([`inspect`]) and `ims doctor --fix` deletes the outdated and corrupt ones.
//!
//! The rule (CONTRIBUTING.md): every cache lives here. A new cache gets a [`Kind`] in
//! [`KINDS`] and reads and writes through [`read`], [`write`] and [`append`].

pub mod blobs;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Result;

/// One kind of cache: its name (the file name's start) and its format version, bumped
/// whenever what it holds changes meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    pub version: u32,
    /// What it saves, for `ims doctor`.
    pub about: &'static str,
}

/// `ims verify`'s proved commits (HMAC-chained blocks; the key is outside the repository).
pub const VERIFY: Kind = Kind { name: "verify", version: 5, about: "commits ims verify proved" };
/// What `ims verify`'s walk learnt about reads (anchors, trees) at the tip it saw (HMAC'd).
pub const READ_FACTS: Kind =
    Kind { name: "read-facts", version: 1, about: "read-audit facts at the last verified tip" };
/// `ims report`'s facts per incident blob, and the blobs of each folder of incident files
/// ([`crate::facts`], a [`blobs`] cache). The version is the facts' format and the file's
/// layout (1: folder lines, 2: folder lines name their path), so a change of either
/// rebuilds it.
pub const REPORT: Kind =
    Kind { name: "report", version: crate::report::FACTS_FORMAT * 10 + 2, about: "report facts per incident" };
/// The site's audit index (the tip it was built at, then one line per audited action).
pub const SITE_AUDIT: Kind = Kind { name: "site-audit", version: 1, about: "the site's audit index" };
/// The site's complete audit log: the heads it was read from, then every `ims audit` entry.
pub const SITE_AUDIT_LOG: Kind = Kind { name: "site-audit-log", version: 1, about: "the site's complete audit log" };
/// The site's incident summaries per blob ([`blobs`]). Its version follows the report
/// facts' format (hundreds) and the summary's own fields and layout (units: 1 added the
/// latest update times, 2 the untriaged clock's facts, 3 tab-separated lines with the
/// facts inside and folder lines, 4 folder lines with their path).
pub const SITE_SUMMARIES: Kind = Kind {
    name: "site-summaries",
    version: crate::report::FACTS_FORMAT * 100 + 4,
    about: "the site's incident summaries",
};
/// The site's rendered pages and their render keys, per output folder and audience (2:
/// the key every page shares on the first line).
pub const SITE_MANIFEST: Kind = Kind { name: "site-manifest", version: 2, about: "the site's rendered-page keys" };

/// The `templates/` folders (tree ids) proved to come from a template procedure that replays.
pub const SITE_TEMPLATES: Kind = Kind { name: "site-templates", version: 1, about: "template folders proved" };

/// Every kind, for `ims doctor`.
pub const KINDS: &[Kind] =
    &[VERIFY, READ_FACTS, REPORT, SITE_AUDIT, SITE_AUDIT_LOG, SITE_SUMMARIES, SITE_MANIFEST, SITE_TEMPLATES];

/// The file name suffix of every cache file.
const EXT: &str = "cache";

/// The folder every cache lives in.
pub fn dir(git_dir: &Path) -> PathBuf {
    git_dir.join("ims").join("cache")
}

/// The file of cache `kind`; `variant` tells apart several of one kind (a trust root, an
/// output folder), empty when there is one.
pub fn path(git_dir: &Path, kind: Kind, variant: &str) -> PathBuf {
    let name = if variant.is_empty() { kind.name.to_string() } else { format!("{}-{variant}", kind.name) };
    dir(git_dir).join(format!("{name}.{EXT}"))
}

/// The header line of `kind` (without its newline).
pub fn header(kind: Kind) -> String {
    format!("ims-cache {}/{} {}", kind.name, kind.version, env!("CARGO_PKG_VERSION"))
}

/// The body of a cache file, or `None` when it is absent, unreadable, or not of the
/// current header (then it is rebuilt and overwritten).
pub fn read(path: &Path, kind: Kind) -> Option<String> {
    let mut text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    let end = text.find('\n')?;
    if text[..end] != header(kind) {
        return None;
    }
    // The body in place: no second copy of a file that can be megabytes.
    text.drain(..=end);
    Some(text)
}

/// Replaces a cache file whole: written aside and renamed, so a reader never sees half.
pub fn write(path: &Path, kind: Kind, body: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(header(kind).as_bytes())?;
        f.write_all(b"\n")?;
        f.write_all(body.as_bytes())?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Adds `lines` (whole lines, each ending in a newline) at the end of a cache file whose
/// header is current; a file that is absent or outdated is replaced with them.
pub fn append(path: &Path, kind: Kind, lines: &str) -> Result<()> {
    let current = std::fs::File::open(path).ok().and_then(|f| {
        use std::io::BufRead;
        let mut first = String::new();
        std::io::BufReader::new(f).read_line(&mut first).ok()?;
        Some(first.trim_end_matches('\n') == header(kind))
    });
    if current != Some(true) {
        return write(path, kind, lines);
    }
    let mut f = std::fs::OpenOptions::new().append(true).open(path)?;
    f.write_all(lines.as_bytes())?;
    Ok(())
}

/// What `ims doctor` reports of one cache file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    pub path: PathBuf,
    /// The kind's name, when the file is one of ims's.
    pub kind: Option<&'static str>,
    /// The header's `<name>/<version> <ims version>`, as found.
    pub format: Option<String>,
    pub bytes: u64,
    /// Lines after the header.
    pub entries: usize,
    /// Of the current format and ims version: read as is. Otherwise it is ignored and
    /// rebuilt, and `ims doctor --fix` deletes it.
    pub current: bool,
}

/// Every file in the cache folder, in name order.
pub fn inspect(git_dir: &Path) -> Result<Vec<Entry>> {
    let dir = dir(git_dir);
    let mut out = Vec::new();
    let Ok(read) = std::fs::read_dir(&dir) else { return Ok(out) };
    let mut paths: Vec<PathBuf> = read.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    paths.sort();
    for path in paths {
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let text = std::fs::read(&path).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let first = text.split('\n').next().unwrap_or("");
        let format = first.strip_prefix("ims-cache ").map(str::to_string);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // The longest name that fits wins (`site-audit-…` is not a `site` cache).
        let stem = name.strip_suffix(&format!(".{EXT}"));
        let kind = KINDS
            .iter()
            .filter(|k| stem.is_some_and(|s| s == k.name || s.starts_with(&format!("{}-", k.name))))
            .max_by_key(|k| k.name.len())
            .copied();
        let current = kind.is_some_and(|k| first == header(k));
        let entries = text.lines().count().saturating_sub(1);
        out.push(Entry { path, kind: kind.map(|k| k.name), format, bytes, entries, current });
    }
    Ok(out)
}

/// Deletes every file in the cache folder that is not a current cache (another
/// version, another ims, garbled, a leftover temporary file); the paths deleted.
pub fn clear_outdated(git_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut gone = Vec::new();
    for e in inspect(git_dir)? {
        if !e.current {
            std::fs::remove_file(&e.path)?;
            gone.push(e.path);
        }
    }
    Ok(gone)
}

/// The caches of earlier ims versions, kept directly in `.git/ims/` before this module
/// (`verify-cache/`, `report-cache-*.tsv`, `site-*.tsv`): outdated by definition.
pub fn legacy(git_dir: &Path) -> Vec<PathBuf> {
    let base = git_dir.join("ims");
    let Ok(read) = std::fs::read_dir(&base) else { return vec![] };
    let mut out: Vec<PathBuf> = read
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name == "verify-cache"
                || (name.ends_with(".tsv") && (name.starts_with("report-cache-") || name.starts_with("site-")))
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("ims-cache-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn written_then_read_with_its_header() {
        let g = git_dir();
        let p = path(&g, REPORT, "");
        assert_eq!(read(&p, REPORT), None);
        write(&p, REPORT, "a\n").unwrap();
        append(&p, REPORT, "b\n").unwrap();
        assert_eq!(read(&p, REPORT).as_deref(), Some("a\nb\n"));
        assert!(std::fs::read_to_string(&p).unwrap().starts_with("ims-cache report/"));
        let e = inspect(&g).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].kind, e[0].entries, e[0].current), (Some("report"), 2, true));
        std::fs::remove_dir_all(g).unwrap();
    }

    #[test]
    fn another_version_reads_as_empty_and_is_cleared() {
        let g = git_dir();
        let p = path(&g, SITE_AUDIT, "");
        std::fs::create_dir_all(dir(&g)).unwrap();
        std::fs::write(&p, "ims-cache site-audit/0 0.0.1\nold\n").unwrap();
        assert_eq!(read(&p, SITE_AUDIT), None);
        // An append to an outdated file replaces it.
        append(&p, SITE_AUDIT, "new\n").unwrap();
        assert_eq!(read(&p, SITE_AUDIT).as_deref(), Some("new\n"));
        std::fs::write(path(&g, VERIFY, "x"), "garbage").unwrap();
        let gone = clear_outdated(&g).unwrap();
        assert_eq!(gone, vec![path(&g, VERIFY, "x")]);
        assert!(p.exists());
        std::fs::remove_dir_all(g).unwrap();
    }

    #[test]
    fn a_variant_is_its_kind() {
        let g = git_dir();
        write(&path(&g, SITE_MANIFEST, "incidents-0123"), SITE_MANIFEST, "").unwrap();
        write(&path(&g, SITE_SUMMARIES, ""), SITE_SUMMARIES, "").unwrap();
        write(&path(&g, SITE_AUDIT, ""), SITE_AUDIT, "").unwrap();
        write(&path(&g, SITE_AUDIT_LOG, ""), SITE_AUDIT_LOG, "").unwrap();
        let kinds: Vec<_> = inspect(&g).unwrap().into_iter().map(|e| (e.kind, e.current)).collect();
        assert_eq!(
            kinds,
            vec![
                // By file name: `site-audit-log.cache` sorts before `site-audit.cache`.
                (Some("site-audit-log"), true),
                (Some("site-audit"), true),
                (Some("site-manifest"), true),
                (Some("site-summaries"), true)
            ]
        );
        std::fs::remove_dir_all(g).unwrap();
    }
}
