//! The KPI facts of every incident at a commit, kept in the report cache
//! ([`crate::cache::REPORT`]) so a warm `ims report` reads one file instead of every
//! record.
//!
//! The cache holds two kinds of lines, appended as they are learnt:
//!
//! - `<blob id>\t<facts>`: the facts of one incident file's content
//!   ([`Facts::to_cache_line`]); a blob's content never changes, so neither do its facts.
//! - `T<tree id>\t<blob id> <blob id> …`: the files of a folder that holds only files (a
//!   day folder of `records/incidents/`), in tree order, written once each of them has a
//!   facts line. A folder seen before is then not read from git at all, which is most of
//!   a warm run's cost after the facts themselves.
//!
//! Nothing in the file is trusted beyond speed: a line that does not parse is ignored, a
//! folder line naming a blob without facts makes the folder be read again, and a facts
//! line that does not parse makes the blob be read again. Only the lines of blobs at the
//! tip are parsed; the file is rewritten with just those when stale lines outnumber them.

use std::collections::HashMap;

use git2::{ObjectType, Oid};

use crate::error::{Error, Result};
use crate::repo::Repo;
use ims_core::report::Facts;

/// The folder of incident records.
const DIR: &str = "records/incidents";

/// Raw object id bytes: hashing and comparing them never calls into libgit2.
type Key = [u8; 20];

fn key(o: &Oid) -> Key {
    o.as_bytes().try_into().unwrap_or([0; 20])
}

/// The 20 bytes of a 40-digit lowercase hex object id.
fn unhex(s: &str) -> Option<Key> {
    let b = s.as_bytes();
    if b.len() != 40 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 20];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// The cache file's lines, indexed by id, unparsed.
#[derive(Default)]
struct Cached<'a> {
    facts: HashMap<Key, &'a str>,
    trees: HashMap<Key, &'a str>,
    lines: usize,
}

impl<'a> Cached<'a> {
    fn index(text: &'a str) -> Cached<'a> {
        let mut c = Cached::default();
        for line in text.lines() {
            c.lines += 1;
            let Some((id, rest)) = line.split_once('\t') else { continue };
            if let Some(tree) = id.strip_prefix('T') {
                if let Some(k) = unhex(tree) {
                    c.trees.insert(k, rest);
                }
            } else if let Some(k) = unhex(id) {
                c.facts.insert(k, rest);
            }
        }
        c
    }

    /// The blobs a cached folder line lists, when every one of them has facts.
    fn folder(&self, tree: &Oid) -> Option<Vec<Oid>> {
        let line = self.trees.get(&key(tree))?;
        line.split(' ')
            .map(|hex| unhex(hex).filter(|k| self.facts.contains_key(k)).and_then(|k| Oid::from_bytes(&k).ok()))
            .collect()
    }
}

/// What the walk found: every blob in tree order, the paths of those without facts, and
/// the folders read from git that hold only files.
#[derive(Default)]
struct Walk {
    blobs: Vec<Oid>,
    paths: HashMap<Oid, String>,
    folders: Vec<(Oid, Vec<Oid>)>,
    folders_cached: Vec<Oid>,
}

fn walk(git: &git2::Repository, tree_id: Oid, dir: &str, cached: &Cached, out: &mut Walk) -> Result<()> {
    if let Some(blobs) = cached.folder(&tree_id) {
        out.blobs.extend(blobs);
        out.folders_cached.push(tree_id);
        return Ok(());
    }
    let tree = git.find_tree(tree_id)?;
    let mut only_files = true;
    let start = out.blobs.len();
    for entry in tree.iter() {
        let name = entry.name().unwrap_or("");
        match entry.kind() {
            Some(ObjectType::Blob) => {
                let id = entry.id();
                if !cached.facts.contains_key(&key(&id)) {
                    out.paths.insert(id, format!("{dir}/{name}"));
                }
                out.blobs.push(id);
            }
            Some(ObjectType::Tree) => {
                only_files = false;
                walk(git, entry.id(), &format!("{dir}/{name}"), cached, out)?;
            }
            _ => {}
        }
    }
    if only_files && out.blobs.len() > start {
        let listed = out.blobs[start..].to_vec();
        out.folders.push((tree_id, listed));
    }
    Ok(())
}

/// The facts of one blob from its content: read from the working tree when the file
/// there is exactly the committed blob (checked by hashing it), as `git grep` does,
/// since a plain read is far cheaper than inflating it from a pack.
fn from_blob(
    git: &git2::Repository,
    workdir: Option<&std::path::Path>,
    oid: Oid,
    path: Option<&String>,
) -> Result<Facts> {
    let on_disk = workdir
        .zip(path)
        .and_then(|(w, p)| std::fs::read(crate::repo::worktree_file(w, p).ok()?).ok())
        .filter(|bytes| blob_id(bytes) == *oid.as_bytes());
    let bytes = match on_disk {
        Some(b) => b,
        None => git.find_blob(oid)?.content().to_vec(),
    };
    let what = path.cloned().unwrap_or_else(|| format!("incident blob {oid}"));
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(&bytes),
    };
    Ok(Facts::from_text(&text, &what)?)
}

/// Git's id of a blob with these bytes. Plain SHA-1, not libgit2's collision-detecting
/// one (three times slower, and most of a cold report): this only tells whether the file
/// in the working tree is the committed record, to read it from disk instead of the pack,
/// as `git grep` does; `ims verify`, which proves content, keeps the detecting hash.
fn blob_id(bytes: &[u8]) -> [u8; 20] {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    h.finalize().into()
}

/// The facts of every incident at `tip`, in tree order: from the cache where the blob was
/// seen before, parsing the rest (and the cached lines) on all cores.
pub fn incident_facts(repo: &Repo, tip: Option<Oid>) -> Result<Vec<Facts>> {
    // Reports read records, they do not prove them (that is `ims verify`'s job, which
    // keeps libgit2's hash check on): skip re-hashing every object read.
    git2::opts::strict_hash_verification(false);
    let cache_path = crate::cache::path(repo.git.path(), crate::cache::REPORT, "");
    let text = crate::cache::read(&cache_path, crate::cache::REPORT).unwrap_or_default();
    let cached = Cached::index(&text);
    let snap = repo.snapshot(tip)?;
    let mut found = Walk::default();
    if let Some(root) = snap.subtree(DIR)? {
        walk(&repo.git, root.id(), DIR, &cached, &mut found)?;
    }

    let git_dir = repo.git.path().to_path_buf();
    let workdir = repo.git.workdir().map(|w| w.to_path_buf());
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let chunk = found.blobs.len().div_ceil(workers).max(1);
    // Each blob's facts, and whether they had to be read from the blob (then they are
    // new to the cache).
    let parsed: Vec<Result<Vec<(Facts, bool)>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = found
            .blobs
            .chunks(chunk)
            .map(|part| {
                let (git_dir, workdir, cached, paths) = (&git_dir, &workdir, &cached, &found.paths);
                scope.spawn(move || -> Result<Vec<(Facts, bool)>> {
                    let mut git = None;
                    part.iter()
                        .map(|oid| {
                            if let Some(f) = cached.facts.get(&key(oid)).and_then(|l| Facts::from_cache_line(l).ok()) {
                                return Ok((f, false));
                            }
                            let git = match &mut git {
                                Some(g) => g,
                                None => git.insert(git2::Repository::open(git_dir)?),
                            };
                            Ok((from_blob(git, workdir.as_deref(), *oid, paths.get(oid))?, true))
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(Error::internal("a report worker panicked"))))
            .collect()
    });
    let mut facts = Vec::with_capacity(found.blobs.len());
    let mut fresh = String::new();
    for (part, oids) in parsed.into_iter().zip(found.blobs.chunks(chunk)) {
        for ((f, new), oid) in part?.into_iter().zip(oids) {
            if new {
                fresh.push_str(&format!("{oid}\t{}\n", f.to_cache_line()?));
            }
            facts.push(f);
        }
    }
    for (tree, blobs) in &found.folders {
        fresh.push_str(&folder_line(tree, blobs));
    }
    // Stale lines (blobs and folders no longer at the tip) only cost reading time: when
    // they outnumber the live ones, keep just what this tip uses. A cache that cannot be
    // written only costs speed next time.
    let live = found.blobs.len() + found.folders.len() + found.folders_cached.len();
    if cached.lines > 2 * live + 1024 {
        let _ = crate::cache::write(&cache_path, crate::cache::REPORT, &live_lines(&found, &facts, &cached)?);
    } else if !fresh.is_empty() {
        let _ = crate::cache::append(&cache_path, crate::cache::REPORT, &fresh);
    }
    Ok(facts)
}

/// The cache line of a folder of files: its tree id and its blobs in tree order.
fn folder_line(tree: &Oid, blobs: &[Oid]) -> String {
    let ids: Vec<String> = blobs.iter().map(Oid::to_string).collect();
    format!("T{tree}\t{}\n", ids.join(" "))
}

/// Every line this tip uses: one per blob at the tip, one per folder of files.
fn live_lines(found: &Walk, facts: &[Facts], cached: &Cached) -> Result<String> {
    let mut text = String::new();
    for (oid, f) in found.blobs.iter().zip(facts) {
        text.push_str(&format!("{oid}\t{}\n", f.to_cache_line()?));
    }
    for (tree, blobs) in &found.folders {
        text.push_str(&folder_line(tree, blobs));
    }
    for tree in &found.folders_cached {
        if let Some(line) = cached.trees.get(&key(tree)) {
            text.push_str(&format!("T{tree}\t{line}\n"));
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_gits() {
        for bytes in [&b""[..], b"incident_id: INC-1\n", &[0xff; 1000][..]] {
            let git = Oid::hash_object(ObjectType::Blob, bytes).unwrap();
            assert_eq!(blob_id(bytes), *git.as_bytes());
        }
    }

    #[test]
    fn hex_ids_round_trip_and_anything_else_is_refused() {
        let oid = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert_eq!(unhex(&oid.to_string()), Some(key(&oid)));
        assert_eq!(unhex("0123456789ABCDEF0123456789abcdef01234567"), None);
        assert_eq!(unhex("0123"), None);
        assert_eq!(unhex("g123456789abcdef0123456789abcdef01234567"), None);
    }

    #[test]
    fn a_folder_line_counts_only_when_every_blob_it_lists_has_facts() {
        let a = "1111111111111111111111111111111111111111";
        let b = "2222222222222222222222222222222222222222";
        let t = "3333333333333333333333333333333333333333";
        let text = format!("{a}\tfacts\nT{t}\t{a} {b}\nnot a line\n");
        let cached = Cached::index(&text);
        assert_eq!(cached.lines, 3);
        assert_eq!(cached.folder(&Oid::from_str(t).unwrap()), None, "b has no facts line");
        let text = format!("{text}{b}\tfacts\n");
        let cached = Cached::index(&text);
        let listed = cached.folder(&Oid::from_str(t).unwrap()).unwrap();
        assert_eq!(listed, vec![Oid::from_str(a).unwrap(), Oid::from_str(b).unwrap()]);
    }
}
