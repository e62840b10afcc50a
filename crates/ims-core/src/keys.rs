//! Public keys and SSHSIG verification: the pure half of signing, with no key files and
//! no ssh-agent, so the procedures can register and check keys without touching I/O.

use ssh_key::{HashAlg, PublicKey, SshSig};

use crate::error::{Error, Result};

/// The namespace git signs commits in.
pub const NAMESPACE: &str = "git";

/// Parses an OpenSSH public key line, ignoring its comment.
pub fn parse_public(text: &str, what: &str) -> Result<PublicKey> {
    let mut key = PublicKey::from_openssh(text.trim())
        .map_err(|e| Error::invalid(format!("{what}: not an OpenSSH public key: {e}")))?;
    key.set_comment("");
    Ok(key)
}

/// A public key as stored in a person's file: algorithm and base64, no comment.
pub fn key_line(key: &PublicKey) -> Result<String> {
    let mut key = key.clone();
    key.set_comment("");
    key.to_openssh().map(|s| s.trim().to_string()).map_err(|e| Error::internal(format!("key: {e}")))
}

/// `SHA256:…`, as `ssh-keygen -l` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Checks an armored SSHSIG over `message`; returns the public key that made it.
pub fn verify(message: &[u8], armored: &str) -> Result<PublicKey> {
    let sig = SshSig::from_pem(armored).map_err(|e| Error::invalid(format!("signature: {e}")))?;
    let public = PublicKey::from(sig.public_key().clone());
    public.verify(NAMESPACE, message, &sig).map_err(|e| Error::invalid(format!("signature does not verify: {e}")))?;
    Ok(public)
}
