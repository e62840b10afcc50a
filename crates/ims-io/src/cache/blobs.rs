//! A cache of one line per record blob, for the records of one folder (`records/incidents`):
//! what `ims report` keeps of each incident (its facts, [`crate::facts`]) and what the
//! site keeps (its summary). A blob's content never changes, so neither does what is
//! derived from it; the line is keyed by the blob id.
//!
//! The file holds two kinds of lines, appended as they are learnt:
//!
//! - `<blob id>\t<line>`: what was derived from one record file's content.
//! - `T<tree id>\t<folder>\t<blob id> <blob id> …`: the files of a folder that holds only
//!   files (a day folder), in tree order, written once each of them has a line. A folder
//!   seen before at the same path is then not read from git at all. (The path is part of
//!   the line because a tree's id does not say where it sits: the same day folder moved
//!   elsewhere by a hand-made commit is read again, with its files' paths.)
//!
//! Nothing in the file is trusted beyond speed: a line that does not parse is ignored,
//! and a folder line naming a blob without a line makes the folder be read again. Only
//! the lines of blobs at the tip are parsed (by the caller, on every core); the file is
//! rewritten with just those when stale lines outnumber them, so it does not grow
//! without bound over a repository's life.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::Path;

use git2::{ObjectType, Oid};

use crate::error::{Error, Result};

/// Raw object id bytes: hashing and comparing them never calls into libgit2.
pub type Key = [u8; 20];

pub fn key(o: &Oid) -> Key {
    o.as_bytes().try_into().unwrap_or([0; 20])
}

/// Hashes an object id by its first eight bytes: they are already the output of a
/// hash, so running them through SipHash again only costs time (hundreds of thousands
/// of look-ups per run).
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // `[u8; 20]` hashes as its bytes; only the first eight are kept.
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= u64::from(*b) << (8 * i);
        }
    }
}

/// A map keyed by object id.
pub type IdMap<V> = HashMap<Key, V, BuildHasherDefault<IdHasher>>;

/// The 20 bytes of a 40-digit lowercase hex object id.
pub fn unhex(s: &str) -> Option<Key> {
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
pub struct Lines<'a> {
    blobs: IdMap<&'a str>,
    trees: IdMap<&'a str>,
    count: usize,
}

impl<'a> Lines<'a> {
    pub fn index(text: &'a str) -> Lines<'a> {
        let mut c = Lines::default();
        for line in text.lines() {
            c.count += 1;
            let Some((id, rest)) = line.split_once('\t') else { continue };
            if let Some(tree) = id.strip_prefix('T') {
                if let Some(k) = unhex(tree) {
                    c.trees.insert(k, rest);
                }
            } else if let Some(k) = unhex(id) {
                c.blobs.insert(k, rest);
            }
        }
        c
    }

    /// The line of a blob, unparsed.
    pub fn get(&self, blob: &Oid) -> Option<&'a str> {
        self.blobs.get(&key(blob)).copied()
    }

    /// The blobs a cached folder line lists for this tree at this path, when every one of
    /// them has a line (a garbled folder line then names a blob the cache never saw, and
    /// the folder is read from git again).
    fn folder(&self, tree: &Oid, dir: &str) -> Option<Vec<Oid>> {
        let (at, line) = self.trees.get(&key(tree))?.split_once('\t')?;
        if at != dir {
            return None;
        }
        line.split(' ')
            .map(|hex| unhex(hex).filter(|k| self.blobs.contains_key(k)).and_then(|k| Oid::from_bytes(&k).ok()))
            .collect()
    }
}

/// The blobs of a folder at a commit: every blob in tree order, the paths of those
/// without a cached line, and the folders of files (read from git, or known from the cache).
#[derive(Default)]
pub struct Walk {
    pub blobs: Vec<Oid>,
    /// The path of each blob of the folders read from git (every blob without a cached
    /// line is in one). A folder the cache lists was read, with its names, by an earlier
    /// run.
    pub paths: HashMap<Oid, String>,
    folders: Vec<(Oid, String, Vec<Oid>)>,
    folders_cached: Vec<Oid>,
}

impl Walk {
    /// Every blob under `tree` (the tree of folder `dir`), skipping the folders the cache
    /// lists.
    pub fn of(git: &git2::Repository, tree: Option<Oid>, dir: &str, lines: &Lines) -> Result<Walk> {
        let mut out = Walk::default();
        if let Some(tree) = tree {
            out.walk(git, tree, dir, lines)?;
        }
        Ok(out)
    }

    /// A blob found at two places: one file's content twice, which no records folder
    /// `ims verify` accepts holds (each file has its own id).
    pub fn repeated(&self) -> Option<Oid> {
        let mut seen: IdMap<()> = IdMap::default();
        self.blobs.iter().find(|b| seen.insert(key(b), ()).is_some()).copied()
    }

    fn walk(&mut self, git: &git2::Repository, tree_id: Oid, dir: &str, lines: &Lines) -> Result<()> {
        if let Some(blobs) = lines.folder(&tree_id, dir) {
            self.blobs.extend(blobs);
            self.folders_cached.push(tree_id);
            return Ok(());
        }
        let tree = git.find_tree(tree_id)?;
        let mut only_files = true;
        let start = self.blobs.len();
        for entry in tree.iter() {
            let name = entry.name().unwrap_or("");
            match entry.kind() {
                Some(ObjectType::Blob) => {
                    let id = entry.id();
                    self.paths.insert(id, format!("{dir}/{name}"));
                    self.blobs.push(id);
                }
                Some(ObjectType::Tree) => {
                    only_files = false;
                    self.walk(git, entry.id(), &format!("{dir}/{name}"), lines)?;
                }
                _ => {}
            }
        }
        if only_files && self.blobs.len() > start {
            let listed = self.blobs[start..].to_vec();
            self.folders.push((tree_id, dir.to_string(), listed));
        }
        Ok(())
    }
}

/// A worker's own handle on the repository, opened the first time it needs one (a
/// warm run that finds every line in the cache opens none).
pub struct Git<'d> {
    dir: &'d Path,
    open: Option<git2::Repository>,
}

impl Git<'_> {
    pub fn get(&mut self) -> Result<&git2::Repository> {
        match self.open {
            Some(ref g) => Ok(g),
            None => Ok(self.open.insert(git2::Repository::open(self.dir)?)),
        }
    }
}

/// Runs `f` on every blob of the walk with its cached line (if any), on every core, in
/// the walk's order. A worker that fails fails the whole run.
pub fn on_every_core<R: Send>(
    git_dir: &Path,
    walk: &Walk,
    lines: &Lines,
    f: impl Fn(Oid, Option<&str>, &mut Git) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let chunk = walk.blobs.len().div_ceil(workers).max(1);
    let parts: Vec<Result<Vec<R>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = walk
            .blobs
            .chunks(chunk)
            .map(|part| {
                let f = &f;
                scope.spawn(move || {
                    let mut git = Git { dir: git_dir, open: None };
                    part.iter().map(|oid| f(*oid, lines.get(oid), &mut git)).collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(Error::internal("a cache worker panicked"))))
            .collect()
    });
    let mut out = Vec::with_capacity(walk.blobs.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// The content of a record blob: read from the working tree when the file at `path`
/// there is exactly the committed blob (checked by hashing it), as `git grep` does, since
/// a plain read is far cheaper than inflating it from a pack.
pub fn content(git: &git2::Repository, workdir: Option<&Path>, oid: Oid, path: Option<&str>) -> Result<Vec<u8>> {
    let on_disk = workdir
        .zip(path)
        .and_then(|(w, p)| std::fs::read(crate::repo::worktree_file(w, p).ok()?).ok())
        .filter(|bytes| blob_id(bytes) == *oid.as_bytes());
    match on_disk {
        Some(b) => Ok(b),
        None => Ok(git.find_blob(oid)?.content().to_vec()),
    }
}

/// Git's id of a blob with these bytes. Plain SHA-1, not libgit2's collision-detecting
/// one (three times slower, and most of a cold report): this only tells whether the file
/// in the working tree is the committed record, to read it from disk instead of the pack;
/// `ims verify`, which proves content, keeps the detecting hash.
fn blob_id(bytes: &[u8]) -> [u8; 20] {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    h.finalize().into()
}

/// The cache line of a folder of files: its tree id, its path and its blobs in tree order.
fn folder_line(tree: &Oid, dir: &str, blobs: &[Oid]) -> String {
    let ids: Vec<String> = blobs.iter().map(Oid::to_string).collect();
    format!("T{tree}\t{dir}\t{}\n", ids.join(" "))
}

/// Saves what this run learnt: `fresh` holds the new line of each blob whose cached line
/// was missing or did not parse, by blob id. Appended to the file, or, when the file's
/// stale lines outnumber those this tip uses, the file is rewritten with just those. A
/// cache that cannot be written only costs speed next time.
pub fn save(path: &Path, kind: super::Kind, lines: &Lines, walk: &Walk, fresh: &HashMap<Oid, String>) {
    let live = walk.blobs.len() + walk.folders.len() + walk.folders_cached.len();
    if lines.count > 2 * live + 1024 {
        let mut text = String::new();
        for oid in &walk.blobs {
            if let Some(line) = fresh.get(oid).map(String::as_str).or_else(|| lines.get(oid)) {
                text.push_str(&format!("{oid}\t{line}\n"));
            }
        }
        for (tree, dir, blobs) in &walk.folders {
            text.push_str(&folder_line(tree, dir, blobs));
        }
        for tree in &walk.folders_cached {
            if let Some(line) = lines.trees.get(&key(tree)) {
                text.push_str(&format!("T{tree}\t{line}\n"));
            }
        }
        let _ = super::write(path, kind, &text);
        return;
    }
    let mut text = String::new();
    // In the walk's order, so the file reads the same from run to run.
    for oid in &walk.blobs {
        if let Some(line) = fresh.get(oid) {
            text.push_str(&format!("{oid}\t{line}\n"));
        }
    }
    for (tree, dir, blobs) in &walk.folders {
        text.push_str(&folder_line(tree, dir, blobs));
    }
    if !text.is_empty() {
        let _ = super::append(path, kind, &text);
    }
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
    fn a_folder_line_counts_only_when_every_blob_it_lists_has_a_line() {
        let a = "1111111111111111111111111111111111111111";
        let b = "2222222222222222222222222222222222222222";
        let t = "3333333333333333333333333333333333333333";
        let (tree, dir) = (Oid::from_str(t).unwrap(), "records/incidents/2026/01/01");
        let text = format!("{a}\tfacts\nT{t}\t{dir}\t{a} {b}\nnot a line\n");
        let lines = Lines::index(&text);
        assert_eq!(lines.count, 3);
        assert_eq!(lines.folder(&tree, dir), None, "b has no line");
        let text = format!("{text}{b}\tfacts\n");
        let lines = Lines::index(&text);
        let listed = lines.folder(&tree, dir).unwrap();
        assert_eq!(listed, vec![Oid::from_str(a).unwrap(), Oid::from_str(b).unwrap()]);
        assert_eq!(lines.folder(&tree, "records/incidents/2026/01/02"), None, "the same tree moved elsewhere");
        let garbled = format!("T{t}\t{dir}\t{a} not-an-id\n");
        assert_eq!(Lines::index(&garbled).folder(&tree, dir), None);
    }

    #[test]
    fn ids_that_differ_only_after_eight_bytes_are_told_apart() {
        let mut m: IdMap<u8> = IdMap::default();
        let a = unhex("0123456789abcdef0000000000000000000000aa").unwrap();
        let b = unhex("0123456789abcdef0000000000000000000000bb").unwrap();
        m.insert(a, 1);
        m.insert(b, 2);
        assert_eq!((m[&a], m[&b]), (1, 2));
    }
}
