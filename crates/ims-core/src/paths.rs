//! Which tracked paths are governed, which are explicitly ungoverned, and the glob
//! patterns of the `ungoverned` setting.
//!
//! Every tracked path is one of three kinds:
//!
//! - **governed**: what ims reads when it acts or publishes — `ims.yaml`, `people/`,
//!   `allowed_signers`, `records/`, `.gitattributes` (ims writes it at init: it decides
//!   how git merges and checks out records) and `templates/` (site template overrides,
//!   set by `ims template set`). Only signed procedures change them; verify replays them.
//! - **ungoverned**: matched by a pattern of `ims.yaml`'s `ungoverned` list (default
//!   [`crate::model::config::DEFAULT_UNGOVERNED`]): paths ims never reads, changed freely.
//! - anything else: a commit touching it is an `unlisted-path` violation.

use crate::error::{Error, Result};

/// Governed files at the top of the tree.
const GOVERNED_FILES: &[&str] = &["ims.yaml", "allowed_signers", ".gitattributes"];
/// Governed folders: everything under them.
const GOVERNED_FOLDERS: &[&str] = &["people", "records", "templates"];

/// Whether a path is governed: written only by ims procedures.
pub fn governed(path: &str) -> bool {
    GOVERNED_FILES.contains(&path)
        || GOVERNED_FOLDERS
            .iter()
            .any(|f| path.len() > f.len() && path.starts_with(f) && path.as_bytes()[f.len()] == b'/')
}

/// Whether `path` matches one of `patterns`.
pub fn listed(patterns: &[String], path: &str) -> bool {
    patterns.iter().any(|p| matches(p, path))
}

/// Glob match by path segment: `*` and `?` within one segment, a segment `**` for any
/// number of segments (none included).
pub fn matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.split('/').collect();
    let segs: Vec<&str> = path.split('/').collect();
    match_segments(&pat, &segs)
}

fn match_segments(pat: &[&str], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"**", rest)) => (0..=segs.len()).any(|skip| match_segments(rest, &segs[skip..])),
        Some((p, rest)) => match segs.split_first() {
            Some((s, more)) => match_segment(p.as_bytes(), s.as_bytes()) && match_segments(rest, more),
            None => false,
        },
    }
}

fn match_segment(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|skip| match_segment(rest, &s[skip..])),
        Some((b'?', rest)) => !s.is_empty() && match_segment(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && match_segment(rest, &s[1..]),
    }
}

/// Refuses a pattern that is malformed or could match a governed path: the list names
/// only what ims never reads, so it can never exempt a record, a person or a template.
pub fn check_ungoverned_pattern(pattern: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid(format!("`{pattern}`: {why}")));
    if pattern.is_empty() || pattern.len() > 200 {
        return bad("a pattern is 1 to 200 characters");
    }
    if pattern.starts_with('/')
        || pattern.ends_with('/')
        || pattern.split('/').any(|s| s.is_empty() || s == "." || s == "..")
    {
        return bad("a pattern is a relative path like `docs/**` or `README*`, without empty, `.` or `..` parts");
    }
    if pattern.chars().any(|c| c.is_control() || c == '\\' || c == '[' || c == ']') {
        return bad("a pattern uses only `*`, `?` and `**` as wildcards, and no control characters");
    }
    let segs: Vec<&str> = pattern.split('/').collect();
    let governed_hit = if segs[0] == "**" {
        true
    } else if segs.len() == 1 {
        // A one-segment pattern also must not name a governed folder: `records` would
        // free a file or symbolic link put where the folder belongs.
        GOVERNED_FILES.iter().chain(GOVERNED_FOLDERS).any(|f| match_segment(segs[0].as_bytes(), f.as_bytes()))
    } else {
        GOVERNED_FOLDERS.iter().any(|f| match_segment(segs[0].as_bytes(), f.as_bytes()))
    };
    if governed_hit {
        return bad(
            "it could match a governed path (ims.yaml, allowed_signers, .gitattributes, people/, records/, templates/), which only procedures change",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn governed_paths() {
        for p in [
            "ims.yaml",
            "allowed_signers",
            ".gitattributes",
            "people/a@b.yaml",
            "records/x/y.yaml",
            "templates/base.html",
        ] {
            assert!(governed(p), "{p}");
        }
        for p in ["README.md", "records", "templatesx/a", "docs/ims.yaml", ".github/workflows/x.yml", "peoplex"] {
            assert!(!governed(p), "{p}");
        }
    }

    #[test]
    fn globs() {
        assert!(matches(".github/**", ".github/workflows/ims.yml"));
        assert!(matches("docs/**", "docs/a/b/c.md"));
        assert!(matches("README*", "README.md"));
        assert!(!matches("README*", "docs/README.md"));
        assert!(matches("**/*.md", "docs/x.md"));
        assert!(matches("**/*.md", "x.md"));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "ac"));
        assert!(matches(".gitlab-ci.yml", ".gitlab-ci.yml"));
        assert!(!matches(".gitlab-ci.yml", "x/.gitlab-ci.yml"));
    }

    #[test]
    fn ungoverned_patterns_never_cover_governed_paths() {
        for p in crate::model::config::DEFAULT_UNGOVERNED {
            check_ungoverned_pattern(p).unwrap();
        }
        for ok in ["*.md", "scripts/**", "LICENSE", ".editorconfig"] {
            check_ungoverned_pattern(ok).unwrap();
        }
        for bad in [
            "**",
            "**/*.md",
            "*",
            "*.yaml",
            "records/**",
            "rec*/x",
            "templates/*",
            ".git*",
            "people/x",
            "records",
            "templ*",
            "",
            "/abs",
            "a/../b",
            "x[ab]",
        ] {
            assert!(check_ungoverned_pattern(bad).is_err(), "{bad}");
        }
    }
}
