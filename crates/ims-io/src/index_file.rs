//! Git's index file, patched by streaming: look up a few paths, then rewrite the file
//! with those entries replaced, added or removed, without ever holding the whole index
//! in memory. A procedure touches O(1) paths, so its cost must not grow with the
//! repository: parsing a 100,000-entry index into memory (as libgit2 does) would.
//!
//! Handles index versions 2 and 3. The cache-tree extension (`TREE`) is kept with the
//! directories on the touched paths invalidated, as git does; `REUC` is kept; other
//! optional extensions (untracked cache, fsmonitor, offset tables) are dropped, which
//! git tolerates by definition. Version 4 and required extensions (split or sparse
//! index) are reported as [`Unsupported`] so the caller can fall back.
//!
//! Format: Documentation/gitformat-index.txt in git's sources.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use sha1::{Digest, Sha1};

use crate::error::{Error, Result};

/// The stat data and object of one stage-0 entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// ctime s, ctime ns, mtime s, mtime ns, dev, ino, mode, uid, gid, size.
    pub stat: [u32; 10],
    pub oid: [u8; 20],
}

impl Entry {
    /// The entry of a regular file just written with the blob `oid`, as git records it
    /// (the stat fields truncated to 32 bits, as the index format has them).
    pub fn of_file(oid: [u8; 20], meta: &std::fs::Metadata) -> Entry {
        use std::os::unix::fs::MetadataExt;
        Entry {
            stat: [
                meta.ctime() as u32,
                meta.ctime_nsec() as u32,
                meta.mtime() as u32,
                meta.mtime_nsec() as u32,
                meta.dev() as u32,
                meta.ino() as u32,
                0o100644,
                meta.uid(),
                meta.gid(),
                meta.size() as u32,
            ],
            oid,
        }
    }
}

/// What the index holds for a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    Absent,
    Staged([u8; 20]),
    /// Unmerged stages: a conflict in progress.
    Conflict,
}

/// The index uses a feature this patcher does not rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

const FIXED: usize = 62;

struct Reader<R: Read> {
    inner: R,
    left: u64,
}

impl<R: BufRead> Reader<R> {
    fn exact(&mut self, buf: &mut [u8]) -> Result<()> {
        self.inner.read_exact(buf).map_err(|e| Error::internal(format!("index: truncated: {e}")))?;
        self.left = self.left.saturating_sub(buf.len() as u64);
        Ok(())
    }

    /// Reads up to and including a NUL byte into `out`.
    fn until_nul(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let n = self.inner.read_until(0, out)?;
        if out.last() != Some(&0) {
            return Err(Error::internal("index: truncated path"));
        }
        self.left = self.left.saturating_sub(n as u64);
        Ok(())
    }
}

struct RawEntry {
    bytes: Vec<u8>,
    path_start: usize,
    path_len: usize,
    stage: u16,
}

impl RawEntry {
    fn path(&self) -> &[u8] {
        &self.bytes[self.path_start..self.path_start + self.path_len]
    }
}

struct Header {
    version: u32,
    count: u32,
}

fn open(path: &Path) -> Result<Option<(Reader<BufReader<File>>, Header)>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let len = file.metadata()?.len();
    let mut r = Reader { inner: BufReader::with_capacity(64 * 1024, file), left: len };
    let mut head = [0u8; 12];
    r.exact(&mut head)?;
    if &head[0..4] != b"DIRC" {
        return Err(Error::internal(format!("{}: not a git index", path.display())));
    }
    let version = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    let count = u32::from_be_bytes([head[8], head[9], head[10], head[11]]);
    Ok(Some((r, Header { version, count })))
}

fn read_entry<R: BufRead>(r: &mut Reader<R>, version: u32) -> Result<RawEntry> {
    let mut bytes = vec![0u8; FIXED];
    r.exact(&mut bytes)?;
    let flags = u16::from_be_bytes([bytes[60], bytes[61]]);
    let mut fixed = FIXED;
    if version >= 3 && flags & 0x4000 != 0 {
        let mut ext = [0u8; 2];
        r.exact(&mut ext)?;
        bytes.extend_from_slice(&ext);
        fixed += 2;
    }
    r.until_nul(&mut bytes)?;
    let path_len = bytes.len() - fixed - 1;
    // 1 to 8 NULs pad the entry to a multiple of 8 bytes; one was just read.
    let total = (fixed + path_len + 8) & !7;
    let start = bytes.len();
    bytes.resize(total, 0);
    r.exact(&mut bytes[start..])?;
    Ok(RawEntry { bytes, path_start: fixed, path_len, stage: (flags >> 12) & 0x3 })
}

/// Looks up `paths` (sorted or not) in the index at `index`.
pub fn lookup(index: &Path, paths: &[&str]) -> Result<std::result::Result<BTreeMap<String, Held>, Unsupported>> {
    let mut out: BTreeMap<String, Held> = paths.iter().map(|p| (p.to_string(), Held::Absent)).collect();
    let Some((mut r, head)) = open(index)? else { return Ok(Ok(out)) };
    if !(2..=3).contains(&head.version) {
        return Ok(Err(Unsupported(format!("index version {}", head.version))));
    }
    for _ in 0..head.count {
        let e = read_entry(&mut r, head.version)?;
        let Ok(path) = std::str::from_utf8(e.path()) else { continue };
        if let Some(slot) = out.get_mut(path) {
            *slot = match (e.stage, &*slot) {
                (0, Held::Absent) => {
                    let mut oid = [0u8; 20];
                    oid.copy_from_slice(&e.bytes[40..60]);
                    Held::Staged(oid)
                }
                _ => Held::Conflict,
            };
        }
    }
    Ok(Ok(out))
}

/// Rewrites the index at `src` into `dst` with `updates` applied (path → new entry, or
/// `None` to remove). Stage-0 entries of the updated paths are replaced. `held` is what
/// [`lookup`] found for those paths (looked up anew when `None`).
pub fn patch(
    src: &Path,
    dst: &Path,
    updates: &BTreeMap<String, Option<Entry>>,
    held: Option<&BTreeMap<String, Held>>,
) -> Result<std::result::Result<(), Unsupported>> {
    let opened = open(src)?;
    let (version, old_count) = opened.as_ref().map(|(_, h)| (h.version, h.count)).unwrap_or((2, 0));
    if !(2..=3).contains(&version) {
        return Ok(Err(Unsupported(format!("index version {version}"))));
    }
    let looked_up;
    let present = match held {
        Some(h) if updates.keys().all(|p| h.contains_key(p)) => h,
        _ => match lookup(src, &updates.keys().map(String::as_str).collect::<Vec<_>>())? {
            Ok(p) => {
                looked_up = p;
                &looked_up
            }
            Err(u) => return Ok(Err(u)),
        },
    };
    let mut count = old_count as i64;
    for (path, update) in updates {
        let was = matches!(present.get(path), Some(Held::Staged(_)));
        count += update.is_some() as i64 - was as i64;
    }
    let mut w = Hashing { inner: BufWriter::with_capacity(64 * 1024, File::create(dst)?), sha: Sha1::new() };
    w.put(b"DIRC")?;
    w.put(&version.to_be_bytes())?;
    w.put(&(count as u32).to_be_bytes())?;
    let mut pending = updates.iter().peekable();
    if let Some((mut r, head)) = opened {
        for _ in 0..head.count {
            let e = read_entry(&mut r, head.version)?;
            // Write every update that sorts before this entry.
            while let Some((path, update)) = pending.peek() {
                if path.as_bytes() < e.path() {
                    if let Some(entry) = update {
                        w.put(&encode(path, entry))?;
                    }
                    pending.next();
                } else {
                    break;
                }
            }
            let replaced = pending.peek().is_some_and(|(p, _)| p.as_bytes() == e.path());
            if replaced && e.stage == 0 {
                let (path, update) = pending.next().expect("peeked");
                if let Some(entry) = update {
                    w.put(&encode(path, entry))?;
                }
                continue;
            }
            w.put(&e.bytes)?;
        }
        for (path, update) in pending {
            if let Some(entry) = update {
                w.put(&encode(path, entry))?;
            }
        }
        // Extensions, up to the trailing checksum.
        while r.left > 20 {
            let mut head = [0u8; 8];
            r.exact(&mut head)?;
            let size = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
            let mut data = vec![0u8; size];
            r.exact(&mut data)?;
            match &head[0..4] {
                b"TREE" => {
                    let data = invalidate_tree(&data, updates)?;
                    w.put(b"TREE")?;
                    w.put(&(data.len() as u32).to_be_bytes())?;
                    w.put(&data)?;
                }
                b"REUC" => {
                    w.put(&head)?;
                    w.put(&data)?;
                }
                sig if sig[0].is_ascii_lowercase() => {
                    let _ = std::fs::remove_file(dst);
                    return Ok(Err(Unsupported(format!("required index extension {}", String::from_utf8_lossy(sig)))));
                }
                _ => {}
            }
        }
    } else {
        for (path, update) in pending {
            if let Some(entry) = update {
                w.put(&encode(path, entry))?;
            }
        }
    }
    let digest = w.sha.finalize();
    w.inner.write_all(&digest)?;
    // Like git, no fsync: the rename that follows is what makes it take effect.
    w.inner.into_inner().map_err(|e| Error::internal(format!("index: {e}")))?;
    Ok(Ok(()))
}

struct Hashing<W: Write> {
    inner: W,
    sha: Sha1,
}

impl<W: Write> Hashing<W> {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.sha.update(bytes);
        self.inner.write_all(bytes)?;
        Ok(())
    }
}

fn encode(path: &str, e: &Entry) -> Vec<u8> {
    let mut out = Vec::with_capacity(FIXED + path.len() + 8);
    for v in e.stat {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&e.oid);
    let flags = path.len().min(0xFFF) as u16;
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(path.as_bytes());
    let total = (FIXED + path.len() + 8) & !7;
    out.resize(total, 0);
    out
}

/// Marks the cache-tree entries of every directory on an updated path invalid
/// (entry count -1, no object id), keeping the rest, as git does on `git add`.
fn invalidate_tree(data: &[u8], updates: &BTreeMap<String, Option<Entry>>) -> Result<Vec<u8>> {
    let bad = || Error::internal("index: malformed TREE extension");
    let mut out = Vec::with_capacity(data.len());
    let mut pos = 0;
    // The directory stack: (path so far, subtrees still to come).
    let mut stack: Vec<(String, usize)> = Vec::new();
    while pos < data.len() {
        let nul = data[pos..].iter().position(|b| *b == 0).ok_or_else(bad)? + pos;
        let name = std::str::from_utf8(&data[pos..nul]).map_err(|_| bad())?;
        let nl = data[nul..].iter().position(|b| *b == b'\n').ok_or_else(bad)? + nul;
        let counts = std::str::from_utf8(&data[nul + 1..nl]).map_err(|_| bad())?;
        let (entries, subtrees) = counts.split_once(' ').ok_or_else(bad)?;
        let entries: i64 = entries.parse().map_err(|_| bad())?;
        let subtrees: usize = subtrees.parse().map_err(|_| bad())?;
        let mut next = nl + 1;
        if entries >= 0 {
            next += 20;
        }
        if next > data.len() {
            return Err(bad());
        }
        while stack.last().is_some_and(|(_, left)| *left == 0) {
            stack.pop();
        }
        if let Some((_, left)) = stack.last_mut() {
            *left -= 1;
        }
        let dir = match stack.last() {
            Some((parent, _)) if parent.is_empty() => name.to_string(),
            Some((parent, _)) => format!("{parent}/{name}"),
            None => String::new(),
        };
        let touched = updates.keys().any(|p| dir.is_empty() || p.starts_with(&format!("{dir}/")));
        out.extend_from_slice(&data[pos..=nul]);
        if touched {
            out.extend_from_slice(format!("-1 {subtrees}\n").as_bytes());
        } else {
            out.extend_from_slice(&data[nul + 1..next]);
        }
        stack.push((dir, subtrees));
        pos = next;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn stat_entry(dir: &Path, path: &str, text: &str) -> Entry {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        let oid = git(dir, &["hash-object", "-w", path]);
        let m = std::fs::metadata(&file).unwrap();
        let mut bytes = [0u8; 20];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&oid.trim()[2 * i..2 * i + 2], 16).unwrap();
        }
        Entry::of_file(bytes, &m)
    }

    #[test]
    fn patched_index_is_what_git_add_would_make() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        for p in ["a.txt", "b/c.txt", "b/d/e.txt", "b.txt", "z/y.txt"] {
            std::fs::create_dir_all(dir.join(p).parent().unwrap()).unwrap();
            std::fs::write(dir.join(p), p).unwrap();
        }
        git(dir, &["add", "."]);
        git(dir, &["commit", "-qm", "one"]); // leaves a valid cache tree (TREE extension)
        let index = dir.join(".git/index");
        let mut updates = BTreeMap::new();
        updates.insert("b/c.txt".to_string(), Some(stat_entry(dir, "b/c.txt", "changed")));
        updates.insert("b/new.txt".to_string(), Some(stat_entry(dir, "b/new.txt", "new")));
        updates.insert("a-new/x.txt".to_string(), Some(stat_entry(dir, "a-new/x.txt", "x")));
        std::fs::remove_file(dir.join("z/y.txt")).unwrap();
        updates.insert("z/y.txt".to_string(), None);
        let patched = dir.join("patched");
        patch(&index, &patched, &updates, None).unwrap().unwrap();
        std::fs::rename(&patched, &index).unwrap();
        // git reads it, finds nothing unstaged, and staged exactly our changes.
        assert_eq!(git(dir, &["diff", "--name-only"]), "");
        let staged = git(dir, &["diff", "--cached", "--name-status"]);
        assert_eq!(staged, "A\ta-new/x.txt\nM\tb/c.txt\nA\tb/new.txt\nD\tz/y.txt\n");
        // The invalidated cache tree is rebuilt right.
        git(dir, &["commit", "-qm", "two"]);
        let tree = git(dir, &["ls-tree", "-r", "--name-only", "HEAD"]);
        assert_eq!(tree, "a-new/x.txt\na.txt\nb.txt\nb/c.txt\nb/d/e.txt\nb/new.txt\n");
        assert_eq!(git(dir, &["status", "--porcelain"]), "");
        git(dir, &["fsck", "--strict"]);
        let held = lookup(&index, &["b/c.txt", "nope"]).unwrap().unwrap();
        assert!(matches!(held["b/c.txt"], Held::Staged(_)));
        assert_eq!(held["nope"], Held::Absent);
    }

    #[test]
    fn a_missing_index_is_created() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        let mut updates = BTreeMap::new();
        updates.insert("f.txt".to_string(), Some(stat_entry(dir, "f.txt", "f")));
        patch(&dir.join(".git/index"), &dir.join(".git/index.new"), &updates, None).unwrap().unwrap();
        std::fs::rename(dir.join(".git/index.new"), dir.join(".git/index")).unwrap();
        assert_eq!(git(dir, &["ls-files"]), "f.txt\n");
    }

    #[test]
    fn version_4_is_left_to_the_fallback() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        std::fs::write(dir.join("f"), "f").unwrap();
        git(dir, &["-c", "index.version=4", "add", "f"]);
        git(dir, &["update-index", "--index-version", "4"]);
        let r = patch(&dir.join(".git/index"), &dir.join("out"), &BTreeMap::new(), None).unwrap();
        assert!(r.is_err());
    }
}
