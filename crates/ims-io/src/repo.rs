//! The repository layer: the only code that touches git2 and the file system.
//!
//! It reads snapshots of a commit's tree, writes a procedure's files as blobs and trees
//! directly (never through the index), creates and signs the commit, moves the branch
//! with a compare-and-swap, and then, under git's own `index.lock`, brings the touched
//! paths of the working tree and the index up to date so that a later plain
//! `git commit` cannot revert them.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use git2::{build::TreeUpdateBuilder, FileMode, IndexEntry, IndexTime, ObjectType, Oid, Repository, Signature, Time};

use std::collections::{BTreeMap, HashMap};

use crate::error::{Error, Result};
use crate::index_file::{self, Held};
use crate::model::{ParseCache, Snapshot};
use ims_core::error::Result as CoreResult;
use std::rc::Rc;

/// A records repository.
pub struct Repo {
    pub git: Repository,
}

/// A commit's tree, read lazily.
pub struct TreeSnapshot<'r> {
    repo: &'r Repository,
    tree: Option<git2::Tree<'r>>,
    parsed: Rc<ParseCache>,
}

impl<'r> TreeSnapshot<'r> {
    pub fn new(repo: &'r Repository, commit: Option<Oid>) -> Result<Self> {
        let tree = match commit {
            Some(oid) => Some(repo.find_commit(oid)?.tree()?),
            None => None,
        };
        Ok(TreeSnapshot { repo, tree, parsed: PARSED.with(Rc::clone) })
    }

    /// The blob id at `path`, if any.
    pub fn blob_id(&self, path: &str) -> Result<Option<Oid>> {
        let Some(tree) = &self.tree else { return Ok(None) };
        match tree.get_path(Path::new(path)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Blob) => Ok(Some(entry.id())),
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl TreeSnapshot<'_> {
    /// The blob ids at many paths: each folder is looked up once and its entries found by
    /// name (a procedure that writes thousands of files into one folder must not read
    /// that folder's tree once per file).
    pub fn blob_ids(&self, paths: &[&str]) -> Result<HashMap<String, Option<Oid>>> {
        let mut folders: HashMap<&str, Option<git2::Tree<'_>>> = HashMap::new();
        let mut out = HashMap::with_capacity(paths.len());
        for path in paths {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            if !folders.contains_key(dir) {
                let tree = match dir {
                    "" => self.tree.clone(),
                    _ => self.subtree(dir)?,
                };
                folders.insert(dir, tree);
            }
            let id = folders[dir]
                .as_ref()
                .and_then(|t| t.get_name(name))
                .filter(|e| e.kind() == Some(ObjectType::Blob))
                .map(|e| e.id());
            out.insert(path.to_string(), id);
        }
        Ok(out)
    }

    /// The folder at `dir`, if there is one.
    pub fn subtree(&self, dir: &str) -> Result<Option<git2::Tree<'_>>> {
        let Some(tree) = &self.tree else { return Ok(None) };
        match tree.get_path(Path::new(dir)) {
            Ok(entry) if entry.kind() == Some(ObjectType::Tree) => Ok(Some(self.repo.find_tree(entry.id())?)),
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Visits every blob under `dir` with its folder (relative to `dir`) and entry.
    fn walk_blobs(&self, dir: &str, mut visit: impl FnMut(&str, &git2::TreeEntry)) -> Result<()> {
        if let Some(sub) = self.subtree(dir)? {
            sub.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
                if entry.kind() == Some(ObjectType::Blob) {
                    visit(root, entry);
                }
                git2::TreeWalkResult::Ok
            })?;
        }
        Ok(())
    }

    /// The ids of every blob under the folder `dir`, without reading any or naming them.
    pub fn blob_ids_under(&self, dir: &str) -> Result<Vec<Oid>> {
        let mut out = Vec::new();
        self.walk_blobs(dir, |_, entry| out.push(entry.id()))?;
        Ok(out)
    }

    /// Every blob under the folder `dir`, with its path and id, without reading any.
    pub fn blobs_under(&self, dir: &str) -> Result<Vec<(String, Oid)>> {
        let mut out = Vec::new();
        self.walk_blobs(dir, |root, entry| {
            if let Ok(name) = entry.name() {
                out.push((format!("{dir}/{root}{name}"), entry.id()));
            }
        })?;
        Ok(out)
    }
}

thread_local! {
    /// Small blobs read lately, by id: `ims.yaml` and people's files are read for nearly
    /// every commit `ims verify` replays, and a blob's content never changes.
    static BLOBS: std::cell::RefCell<std::collections::HashMap<Oid, Vec<u8>>> = Default::default();
}

thread_local! {
    /// Parsed records, `ims.yaml` and people's files, shared by every snapshot made on
    /// this thread (see [`ParseCache`]): the model reads through it, the I/O layer owns it.
    static PARSED: Rc<ParseCache> = Rc::default();
}

/// Remembers the parsed form of a record's canonical bytes for the snapshots of this
/// thread (what `ims verify` does with each replayed commit's writes).
pub fn remember_owned(bytes: Vec<u8>, value: serde_json::Value) {
    PARSED.with(|c| c.remember_owned(bytes, value));
}

impl Snapshot for TreeSnapshot<'_> {
    fn cache(&self) -> Option<&ParseCache> {
        Some(&self.parsed)
    }

    fn read(&self, path: &str) -> CoreResult<Option<Vec<u8>>> {
        let Some(oid) = self.blob_id(path)? else { return Ok(None) };
        if let Some(bytes) = BLOBS.with(|c| c.borrow().get(&oid).cloned()) {
            return Ok(Some(bytes));
        }
        let bytes = self.repo.find_blob(oid).map_err(Error::from)?.content().to_vec();
        if bytes.len() <= 64 * 1024 {
            BLOBS.with(|c| {
                let mut c = c.borrow_mut();
                if c.len() >= 4096 {
                    c.clear();
                }
                c.insert(oid, bytes.clone());
            });
        }
        Ok(Some(bytes))
    }

    fn blob(&self, id: &str) -> CoreResult<Option<Vec<u8>>> {
        let Ok(oid) = Oid::from_str(id) else { return Ok(None) };
        match self.repo.find_blob(oid) {
            Ok(blob) => Ok(Some(blob.content().to_vec())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(Error::from(e).into()),
        }
    }

    fn list(&self, path: &str) -> CoreResult<Vec<String>> {
        Ok(match self.subtree(path)? {
            Some(sub) => sub.iter().filter_map(|e| e.name().ok().map(String::from)).collect(),
            None => vec![],
        })
    }
}

/// Who a commit is by, and when.
pub struct Stamp<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub at: DateTime<Utc>,
}

impl Repo {
    /// Finds the records repository at or above `start`, as git does.
    pub fn discover(start: &Path) -> Result<Repo> {
        // Keep folders of thousands of records (keys, a day of a large import) in
        // libgit2's object cache: by default it caches no tree over 4 KiB, and such a
        // folder would be inflated again for every lookup.
        static TREE_CACHE: std::sync::Once = std::sync::Once::new();
        TREE_CACHE.call_once(|| {
            // SAFETY: libgit2 global options are set once, before any other thread uses
            // libgit2 (the first repository this process opens).
            let _ = unsafe { git2::opts::set_cache_object_limit(ObjectType::Tree, 16 << 20) };
        });
        let git = Repository::discover(start).map_err(|_| {
            Error::invalid(format!("{}: not inside a git repository (run `ims init`)", start.display()))
        })?;
        let repo = Repo { git };
        let tip = repo.tip()?;
        let has_config = TreeSnapshot::new(&repo.git, tip)?.blob_id(crate::model::config::PATH)?.is_some();
        if !has_config {
            return Err(Error::invalid(format!(
                "{}: not a records repository (no ims.yaml at the branch tip; run `ims init`)",
                repo.root().display()
            )));
        }
        repo.recover()?;
        Ok(repo)
    }

    /// The working tree root, or the git dir of a bare repository.
    pub fn root(&self) -> &Path {
        self.git.workdir().unwrap_or_else(|| self.git.path())
    }

    /// The branch HEAD names (`refs/heads/main`).
    pub fn branch(&self) -> Result<String> {
        let head = self.git.find_reference("HEAD")?;
        head.symbolic_target()?
            .map(String::from)
            .ok_or_else(|| Error::precondition("HEAD is detached: check out the records branch first"))
    }

    /// The commit the branch points at, if it has one.
    pub fn tip(&self) -> Result<Option<Oid>> {
        let branch = self.branch()?;
        match self.git.refname_to_id(&branch) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn snapshot(&self, commit: Option<Oid>) -> Result<TreeSnapshot<'_>> {
        TreeSnapshot::new(&self.git, commit)
    }

    /// The commit time of `oid`.
    pub fn commit_time(&self, oid: Oid) -> Result<DateTime<Utc>> {
        let t = self.git.find_commit(oid)?.time();
        Ok(Utc.timestamp_opt(t.seconds(), 0).single().unwrap_or_default())
    }

    /// Writes `writes` on top of `parent`'s tree and creates a signed commit; moves no ref.
    pub fn create_commit(
        &self,
        parent: Option<Oid>,
        writes: &BTreeMap<String, Option<Vec<u8>>>,
        message: &str,
        stamp: &Stamp,
        sign: &dyn Fn(&[u8]) -> Result<String>,
    ) -> Result<Oid> {
        let mut update = TreeUpdateBuilder::new();
        for (path, bytes) in writes {
            match bytes {
                Some(bytes) => {
                    let blob = self.git.blob(bytes)?;
                    update.upsert(path.as_str(), blob, FileMode::Blob);
                }
                None => {
                    update.remove(path.as_str());
                }
            }
        }
        let base = match parent {
            Some(oid) => self.git.find_commit(oid)?.tree()?,
            None => {
                let empty = self.git.treebuilder(None)?.write()?;
                self.git.find_tree(empty)?
            }
        };
        let tree_id = update.create_updated(&self.git, &base)?;
        self.create_commit_with_tree(parent, tree_id, message, stamp, sign)
    }

    /// Creates a signed commit of `tree_id` on `parent`; moves no ref.
    pub fn create_commit_with_tree(
        &self,
        parent: Option<Oid>,
        tree_id: Oid,
        message: &str,
        stamp: &Stamp,
        sign: &dyn Fn(&[u8]) -> Result<String>,
    ) -> Result<Oid> {
        let tree = self.git.find_tree(tree_id)?;
        let time = Time::new(stamp.at.timestamp(), 0);
        let sig = Signature::new(stamp.name, stamp.email, &time)?;
        let parents = match parent {
            Some(oid) => vec![self.git.find_commit(oid)?],
            None => vec![],
        };
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        let buffer = self.git.commit_create_buffer(&sig, &sig, message, &tree, &parent_refs)?;
        let content = buffer.as_str().map_err(|_| Error::internal("commit buffer is not UTF-8"))?;
        let signature = sign(content.as_bytes())?;
        Ok(self.git.commit_signed(content, &signature, Some("gpgsig"))?)
    }

    /// Moves `branch` from `old` to `new` only if it still points at `old`: returns false
    /// when it moved (or its lock was held) meanwhile.
    pub fn compare_and_swap(&self, branch: &str, old: Option<Oid>, new: Oid, log: &str) -> Result<bool> {
        // "Must not exist yet" is the zero id, checked under the ref's lock: libgit2's
        // non-forced create checks existence before locking, so two writers creating the
        // same ref could both succeed and one write would be lost.
        let expected = old.unwrap_or(Oid::ZERO_SHA1);
        let result = self.git.reference_matching(branch, new, true, expected, log).map(|_| ());
        match result {
            Ok(()) => Ok(true),
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::Modified | git2::ErrorCode::Locked | git2::ErrorCode::Exists
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Takes git's `index.lock`, waiting a while for other writers. `None` in a bare repository.
    pub fn lock_index(&self) -> Result<Option<IndexLock>> {
        self.lock_index_within(Duration::from_secs(30))
    }

    fn lock_index_within(&self, limit: Duration) -> Result<Option<IndexLock>> {
        if self.git.is_bare() {
            return Ok(None);
        }
        let path = self.git.path().join("index.lock");
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    // Say who holds it, so a lock left by a killed ims can be recognised.
                    let _ = writeln!(file, "ims-lock {}", std::process::id());
                    return Ok(Some(IndexLock { path, done: false, held: None }));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if stale(&path) {
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    if started.elapsed() > limit {
                        return Err(Error::internal(format!(
                            "{}: held for over {} s by another git process; if none is running, remove it",
                            path.display(),
                            limit.as_secs()
                        )));
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Halts with `precondition` if a path has local edits: its working file or index
    /// entry differs from the blob at `tip`, or it is in conflict. Call with the lock held.
    pub fn check_clean(&self, lock: &mut IndexLock, tip: Option<Oid>, paths: &[&str]) -> Result<()> {
        let Some(workdir) = self.git.workdir() else { return Ok(()) };
        let held = match index_file::lookup(&lock.index(), paths)? {
            Ok(held) => held,
            Err(_) => {
                let index = lock.read_index(&self.git)?;
                paths
                    .iter()
                    .map(|p| {
                        let held = index.get_path(Path::new(p), 0).map(|e| Held::Staged(oid_bytes(e.id)));
                        (p.to_string(), held.unwrap_or(Held::Absent))
                    })
                    .collect()
            }
        };
        let committed_ids = self.snapshot(tip)?.blob_ids(paths)?;
        for path in paths {
            let committed = committed_ids[*path];
            let staged = match held.get(*path) {
                Some(Held::Staged(oid)) => Some(Oid::from_bytes(oid)?),
                Some(Held::Conflict) => {
                    return Err(Error::precondition(format!("{path}: in conflict; resolve it first (ims sync)")))
                }
                _ => None,
            };
            let file = worktree_file(workdir, path)?;
            let on_disk = match fs::symlink_metadata(&file) {
                Ok(_) => Some(Oid::hash_file(ObjectType::Blob, &file)?),
                Err(_) => None,
            };
            // A file git checked out through a filter (an `eol` attribute) has other bytes
            // on disk than its blob, yet git sees no change: ask git, as `git status` would.
            let converted = || {
                let Ok(status) = self.git.status_file(Path::new(path)) else { return false };
                !status.intersects(
                    git2::Status::WT_MODIFIED
                        | git2::Status::WT_DELETED
                        | git2::Status::WT_TYPECHANGE
                        | git2::Status::WT_NEW
                        | git2::Status::CONFLICTED,
                )
            };
            if staged != committed || (on_disk != committed && !converted()) {
                let attributes = self.snapshot(tip)?.read(".gitattributes")?;
                let note = if attributes.as_deref() != Some(crate::procedures::repo::init::GITATTRIBUTES.as_bytes()) {
                    " (note: .gitattributes at the tip is not the one ims wrote; a hand change to it makes git \
                     convert records on checkout, and `ims verify` reports it)"
                } else {
                    ""
                };
                return Err(Error::precondition(format!(
                    "{path}: has local edits (git status shows it changed); records are only written by ims procedures: \
                     `git checkout -- {path}` to drop them{note}"
                )));
            }
        }
        lock.held = Some(held);
        Ok(())
    }

    /// Brings `paths` of the working tree and the index to their state at the branch
    /// tip, then releases the lock by renaming the new index into place, as git does.
    pub fn update_worktree(&self, lock: IndexLock, paths: &[&str]) -> Result<()> {
        let workdir = self.git.workdir().ok_or_else(|| Error::internal("no working tree"))?.to_path_buf();
        let tip = self.tip()?;
        let ids = self.snapshot(tip)?.blob_ids(paths)?;
        let mut updates = BTreeMap::new();
        for path in paths {
            let file = worktree_file(&workdir, path)?;
            match ids[*path] {
                Some(oid) => {
                    let blob = self.git.find_blob(oid)?;
                    write_atomically(&file, blob.content())?;
                    let meta = fs::metadata(&file)?;
                    updates.insert(path.to_string(), Some(entry(oid, &meta)));
                }
                None => {
                    match fs::remove_file(&file) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e.into()),
                    }
                    updates.insert(path.to_string(), None);
                }
            }
        }
        crate::run::pause_point("after-worktree-write");
        lock.commit(&self.git, &updates)
    }

    /// Writes, before a procedure moves the branch, which commit it moves it to and which
    /// paths the working tree and index must then follow: if the process dies before
    /// they do, the next ims ([`Repo::recover`]) finishes the job. Removed on drop, unless
    /// [`Journal::keep`] was called after the branch moved.
    pub fn journal(&self, commit: Oid, paths: &[&str]) -> Result<Journal> {
        let dir = self.git.path().join("ims").join("journal");
        fs::create_dir_all(&dir)?;
        let path = dir.join(std::process::id().to_string());
        let mut text = format!("ims-journal 1\ncommit {commit}\n");
        for p in paths {
            text.push_str(&format!("path {p}\n"));
        }
        write_atomically(&path, text.as_bytes())?;
        Ok(Journal { path, keep: false })
    }

    /// Finishes what an ims killed mid-procedure left undone, before any command runs: a
    /// journal of a process that is gone names the paths whose working file and index
    /// entry must follow the branch. They are brought to the branch tip — the working
    /// tree moves forward to the branch, never the branch back — so `git status` is clean
    /// and a plain `git commit` cannot revert the signed change. A working file someone
    /// edited since is kept (git shows it modified); its index entry still follows the
    /// tip. A stale `index.lock` of a dead ims is cleared on the way (as `ims watch` does).
    /// Returns the number of paths repaired; does nothing while a live process holds the lock.
    pub fn recover(&self) -> Result<usize> {
        let Some(workdir) = self.git.workdir().map(Path::to_path_buf) else { return Ok(0) };
        let lock_path = self.git.path().join("index.lock");
        if lock_path.exists() && stale(&lock_path) {
            let _ = fs::remove_file(&lock_path);
        }
        let dir = self.git.path().join("ims").join("journal");
        let Ok(entries) = fs::read_dir(&dir) else { return Ok(0) };
        let mut dead = Vec::new();
        let mut paths = std::collections::BTreeSet::new();
        // The journals' commits: ims's own versions of a path are the one before each
        // and the one it wrote.
        let mut commits = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(pid) = name.parse::<u32>() else { continue };
            if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
                continue;
            }
            let text = fs::read_to_string(e.path()).unwrap_or_default();
            paths.extend(text.lines().filter_map(|l| l.strip_prefix("path ")).map(String::from));
            commits.extend(text.lines().filter_map(|l| Oid::from_str(l.strip_prefix("commit ")?).ok()));
            dead.push(e.path());
        }
        if dead.is_empty() {
            return Ok(0);
        }
        // A live writer holds the lock: it brings its own paths up to date; try later.
        let Ok(Some(lock)) = self.lock_index_within(Duration::from_secs(2)) else { return Ok(0) };
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        let tip = self.tip()?;
        let target = self.snapshot(tip)?.blob_ids(&paths)?;
        let held = match index_file::lookup(&lock.index(), &paths)? {
            Ok(held) => held,
            Err(_) => {
                let index = lock.read_index(&self.git)?;
                paths
                    .iter()
                    .map(|p| {
                        let held = index.get_path(Path::new(p), 0).map(|e| Held::Staged(oid_bytes(e.id)));
                        (p.to_string(), held.unwrap_or(Held::Absent))
                    })
                    .collect()
            }
        };
        // Every version ims itself may have left at each path: the tip's, and, for each
        // journal, its commit's and its parent's.
        let mut own: BTreeMap<&str, Vec<Option<Oid>>> = paths.iter().map(|p| (*p, vec![target[*p]])).collect();
        for c in &commits {
            let Ok(commit) = self.git.find_commit(*c) else { continue };
            for at in std::iter::once(Some(*c)).chain(std::iter::once(commit.parent_ids().next())) {
                for (p, id) in self.snapshot(at)?.blob_ids(&paths)? {
                    if let Some(list) = own.get_mut(p.as_str()) {
                        list.push(id);
                    }
                }
            }
        }
        let mut updates = BTreeMap::new();
        let mut kept: Vec<String> = Vec::new();
        for path in &paths {
            let want = target[*path];
            // A conflict entry is nobody's version but the person resolving it.
            let staged = match held.get(*path) {
                Some(Held::Staged(b)) => Some(Some(Oid::from_bytes(b)?)),
                Some(Held::Conflict) => None,
                _ => Some(None),
            };
            let file = worktree_file(&workdir, path)?;
            let on_disk = match fs::symlink_metadata(&file) {
                Ok(m) if m.is_file() => Some(Oid::hash_file(ObjectType::Blob, &file)?),
                Ok(_) => Some(Oid::ZERO_SHA1),
                Err(_) => None,
            };
            if staged == Some(want) && on_disk == want {
                continue;
            }
            // Only a version ims itself left there moves forward: anything else is
            // someone's edit since the kill, which repair never overwrites.
            let ims_own = |v: Option<Oid>| own[*path].contains(&v);
            let staged_ours = staged.is_some_and(ims_own);
            let ours = ims_own(on_disk);
            if !staged_ours {
                // Staged by someone (or in conflict): the index entry and the working
                // file are theirs; git shows the change against the branch.
                kept.push(format!(
                    "{path}: changed in the index since the interruption; kept as it is (`git diff --cached -- {path}` shows it against the signed version, `git checkout HEAD -- {path}` takes that)"
                ));
                continue;
            }
            if !ours {
                kept.push(format!(
                    "{path}: edited in the working tree since the interruption; the edit is kept and the index follows the branch (`git diff -- {path}` shows it, `git checkout -- {path}` drops it)"
                ));
            }
            if let Some(dir) = file.parent() {
                if let Ok(leftovers) = fs::read_dir(dir) {
                    for l in leftovers.flatten() {
                        let n = l.file_name().to_string_lossy().into_owned();
                        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                        if n.starts_with(&format!("{stem}.ims-tmp-")) {
                            let _ = fs::remove_file(l.path());
                        }
                    }
                }
            }
            match want {
                Some(oid) if ours => {
                    write_atomically(&file, self.git.find_blob(oid)?.content())?;
                    updates.insert(path.to_string(), Some(entry(oid, &fs::metadata(&file)?)));
                }
                Some(oid) => {
                    // Someone's edit since: keep it; the index follows the tip, with no
                    // stat data, so git compares the file and shows it modified.
                    updates.insert(
                        path.to_string(),
                        Some(index_file::Entry { stat: [0, 0, 0, 0, 0, 0, 0o100644, 0, 0, 0], oid: oid_bytes(oid) }),
                    );
                }
                None => {
                    if ours {
                        let _ = fs::remove_file(&file);
                    }
                    updates.insert(path.to_string(), None);
                }
            }
        }
        let repaired = updates.len();
        lock.commit(&self.git, &updates)?;
        for d in dead {
            let _ = fs::remove_file(d);
        }
        if repaired > 0 {
            eprintln!(
                "ims: an earlier ims was interrupted mid-procedure; brought {repaired} path(s) of the working tree and index to the branch tip"
            );
        }
        for k in &kept {
            eprintln!("ims: an earlier ims was interrupted mid-procedure; {k}");
        }
        Ok(repaired)
    }
}

/// A procedure's journal file, removed when dropped unless kept.
pub struct Journal {
    path: PathBuf,
    keep: bool,
}

impl Journal {
    /// The branch moved: from now on a failure leaves the journal for [`Repo::recover`].
    pub fn keep(&mut self) {
        self.keep = true;
    }

    /// The working tree and index follow the branch: the journal is done.
    pub fn done(mut self) {
        self.keep = false;
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn oid_bytes(oid: Oid) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(oid.as_bytes());
    out
}

/// Git's `index.lock`, held; removed on drop unless committed.
pub struct IndexLock {
    path: PathBuf,
    done: bool,
    /// What the index held for the touched paths, from the check before the commit.
    held: Option<BTreeMap<String, Held>>,
}

impl IndexLock {
    fn index(&self) -> PathBuf {
        self.path.with_file_name("index")
    }

    fn scratch(&self) -> PathBuf {
        self.path.with_file_name("ims-index.tmp")
    }

    /// A private copy of the current index, for libgit2 (the fallback path).
    fn read_index(&self, repo: &Repository) -> Result<git2::Index> {
        let scratch = self.scratch();
        let _ = fs::remove_file(&scratch);
        if self.index().exists() {
            fs::copy(self.index(), &scratch)?;
        }
        let _ = repo;
        Ok(git2::Index::open(&scratch)?)
    }

    /// Writes the patched index, renames it over the lock, then into place. Streams the
    /// index; falls back to libgit2 for index features the patcher does not rewrite.
    fn commit(mut self, repo: &Repository, updates: &BTreeMap<String, Option<index_file::Entry>>) -> Result<()> {
        let scratch = self.scratch();
        if index_file::patch(&self.index(), &scratch, updates, self.held.as_ref())?.is_err() {
            let mut index = self.read_index(repo)?;
            for (path, update) in updates {
                match update {
                    Some(e) => index.add(&git_entry(path, e))?,
                    None => {
                        let _ = index.remove_path(Path::new(path));
                    }
                }
            }
            index.write()?;
        }
        // The new index replaces the old in one rename; then the lock goes. (Renaming it
        // over the lock first would leave, if killed between the two, a lock that no
        // longer says who held it, which nobody could ever clear.)
        fs::rename(&scratch, self.index())?;
        crate::run::pause_point("after-index-write");
        fs::remove_file(&self.path)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(self.scratch());
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// A lock that an ims process took and then died holding (killed, crashed): its pid
/// is gone. A lock taken by git, or by a live process, is never stale.
/// Whether `lock` is an `index.lock` written by an ims process that is gone.
pub fn stale(lock: &Path) -> bool {
    let Ok(text) = fs::read_to_string(lock) else { return false };
    let first = text.lines().next().unwrap_or("");
    let Some(pid) = first.strip_prefix("ims-lock ").and_then(|t| t.trim().parse::<u32>().ok()) else { return false };
    pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Caps on what ims reads from files given to it, in bytes: a file over its cap is
/// refused whole (exit 3, naming the file and the limit), never read to the end, so
/// `/dev/zero` or a runaway export cannot exhaust memory.
pub mod caps {
    /// `--body-file` (a KB article is at most 256 KiB of Markdown).
    pub const BODY: u64 = 1 << 20;
    /// One monitoring payload: `ims event ingest FILE|-`, an inbox file, an HTTP POST.
    pub const PAYLOAD: u64 = 4 << 20;
    /// A CSV export to import.
    pub const IMPORT: u64 = 256 << 20;
    /// One cState incident file, a mapping, a site template.
    pub const PAGE: u64 = 1 << 20;
    /// A public key or a token file.
    pub const KEY: u64 = 64 << 10;
}

/// Reads a file of at most `limit` bytes; `what` names it in errors (e.g. `--body-file`).
pub fn read_capped(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let file = fs::File::open(path).map_err(|e| Error::invalid(format!("{what} {}: {e}", path.display())))?;
    read_capped_from(file, limit, &format!("{what} {}", path.display()))
}

/// Reads at most `limit` bytes from a stream (standard input), refusing a longer one.
pub fn read_capped_from(reader: impl std::io::Read, limit: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes).map_err(|e| Error::invalid(format!("{what}: {e}")))?;
    if bytes.len() as u64 > limit {
        return Err(Error::invalid(format!("{what}: larger than the limit of {limit} bytes")));
    }
    Ok(bytes)
}

/// The working-tree file of a repository path, refusing any path that could reach
/// outside the working tree or into `.git`: an empty, `.` or `..` component, a `.git`
/// component in any case, a backslash or NUL, or a folder on the way that is a symbolic
/// link. A tree can hold such names (`git mktree` makes them; a fetch does not fsck by
/// default), so every path ims writes or reads in the working tree goes through here.
pub fn worktree_file(workdir: &Path, path: &str) -> Result<std::path::PathBuf> {
    check_repo_path(path)?;
    let mut file = workdir.to_path_buf();
    let parts: Vec<&str> = path.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        file.push(part);
        if i + 1 < parts.len() {
            if let Ok(meta) = fs::symlink_metadata(&file) {
                if meta.file_type().is_symlink() {
                    return Err(Error::invalid(format!(
                        "{path}: the folder {} is a symbolic link; ims does not write through one",
                        parts[..=i].join("/")
                    )));
                }
            }
        }
    }
    Ok(file)
}

/// Refuses a repository path that is not a plain relative path inside the tree (see
/// [`worktree_file`]).
pub fn check_repo_path(path: &str) -> Result<()> {
    let bad = path.is_empty()
        || path.contains(['\\', '\0'])
        || path.split('/').any(|c| c.is_empty() || c == "." || c == ".." || c.eq_ignore_ascii_case(".git"));
    if bad {
        return Err(Error::invalid(format!(
            "{:?}: not a plain path inside the repository (an empty, `.`, `..` or `.git` part, a backslash or NUL)",
            path
        )));
    }
    Ok(())
}

/// Replaces a file whole (a temporary file renamed into place), so a crash leaves the
/// old bytes or the new ones.
pub fn write_atomically(file: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = file.with_extension(format!("ims-tmp-{}", std::process::id()));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
    }
    fs::rename(&tmp, file)?;
    Ok(())
}

fn entry(id: Oid, meta: &fs::Metadata) -> index_file::Entry {
    index_file::Entry::of_file(oid_bytes(id), meta)
}

fn git_entry(path: &str, e: &index_file::Entry) -> IndexEntry {
    let s = e.stat;
    IndexEntry {
        ctime: IndexTime::new(s[0] as i32, s[1]),
        mtime: IndexTime::new(s[2] as i32, s[3]),
        dev: s[4],
        ino: s[5],
        mode: s[6],
        uid: s[7],
        gid: s[8],
        file_size: s[9],
        id: Oid::from_bytes(&e.oid).expect("20 bytes"),
        flags: (path.len().min(0xfff)) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}
