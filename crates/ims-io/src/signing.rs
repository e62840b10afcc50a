//! SSH signing keys and SSHSIG signatures, exactly as `git commit -S` with
//! `gpg.format=ssh` writes them (namespace `git`, SHA-512), and their verification in
//! process.
//!
//! A key comes from a private key file (OpenSSH ed25519, ECDSA or RSA), or from
//! ssh-agent: a public key file or a `key::` literal whose private half the agent holds,
//! as git does it.

use std::path::{Path, PathBuf};

use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use crate::error::{Error, Result};

pub use crate::keys::{fingerprint, key_line, parse_public, verify, NAMESPACE};

/// Something that can sign a commit buffer.
pub enum Signer {
    /// A private key read from a file.
    File(Box<PrivateKey>),
    /// A key held by ssh-agent at `socket`.
    Agent { socket: PathBuf, public: PublicKey },
}

impl Signer {
    /// Loads a signing key from `spec`: a path to a private or public key file, or a
    /// `key::ssh-…` literal (the forms of git's `user.signingkey`).
    pub fn load(spec: &str) -> Result<Signer> {
        if let Some(literal) = spec.strip_prefix("key::") {
            return Signer::from_agent(parse_public(literal, "signing key")?);
        }
        if spec.starts_with("ssh-") || spec.starts_with("ecdsa-") {
            return Signer::from_agent(parse_public(spec, "signing key")?);
        }
        let path = expand_home(spec);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::forbidden(format!("signing key {}: cannot read it: {e}", path.display())))?;
        if text.contains("PRIVATE KEY-----") {
            let key = PrivateKey::from_openssh(&text)
                .map_err(|e| Error::forbidden(format!("signing key {}: {e}", path.display())))?;
            if key.is_encrypted() {
                // Like git: a passphrase-protected key is used through the agent.
                return Signer::from_agent(key.public_key().clone());
            }
            return Ok(Signer::File(Box::new(key)));
        }
        let public = parse_public(text.trim(), &format!("signing key {}", path.display()))?;
        if std::env::var_os("SSH_AUTH_SOCK").is_some() {
            if let Ok(signer) = Signer::from_agent(public.clone()) {
                return Ok(signer);
            }
        }
        let private = path.with_extension("");
        if private != path && private.exists() {
            return Signer::load(&private.to_string_lossy());
        }
        Err(Error::forbidden(format!(
            "signing key {}: a public key, and neither ssh-agent nor {} holds its private half",
            path.display(),
            private.display()
        )))
    }

    fn from_agent(public: PublicKey) -> Result<Signer> {
        let socket = std::env::var_os("SSH_AUTH_SOCK")
            .map(PathBuf::from)
            .ok_or_else(|| Error::forbidden("signing key: held by ssh-agent, but SSH_AUTH_SOCK is not set"))?;
        let mut client = ssh_agent_client_rs::Client::connect(&socket)
            .map_err(|e| Error::forbidden(format!("ssh-agent at {}: {e}", socket.display())))?;
        let held = client.list_all_identities().map_err(|e| Error::forbidden(format!("ssh-agent: {e}")))?.iter().any(
            |identity| {
                let data: &ssh_key::public::KeyData = identity.into();
                data == public.key_data()
            },
        );
        if !held {
            return Err(Error::forbidden(format!(
                "ssh-agent does not hold the signing key {}",
                public.fingerprint(HashAlg::Sha256)
            )));
        }
        Ok(Signer::Agent { socket, public })
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Signer::File(k) => k.public_key().clone(),
            Signer::Agent { public, .. } => public.clone(),
        }
    }

    /// Signs `message` and returns the armored SSHSIG, without its trailing newline (as
    /// git stores it in the `gpgsig` header).
    pub fn sign(&self, message: &[u8]) -> Result<String> {
        let sig = match self {
            Signer::File(key) => match key.key_data() {
                ssh_key::private::KeypairData::Rsa(rsa) => sign_rsa(key.public_key(), rsa, message)?,
                _ => key
                    .sign(NAMESPACE, HashAlg::Sha512, message)
                    .map_err(|e| Error::internal(format!("signing: {e}")))?,
            },
            Signer::Agent { socket, public } => {
                let data = SshSig::signed_data(NAMESPACE, HashAlg::Sha512, message)
                    .map_err(|e| Error::internal(format!("signing: {e}")))?;
                let mut client = ssh_agent_client_rs::Client::connect(socket)
                    .map_err(|e| Error::internal(format!("ssh-agent: {e}")))?;
                let signature = client
                    .sign(public, &data)
                    .map_err(|e| Error::internal(format!("ssh-agent refused to sign: {e}")))?;
                SshSig::new(public.key_data().clone(), NAMESPACE, HashAlg::Sha512, signature)
                    .map_err(|e| Error::internal(format!("signing: {e}")))?
            }
        };
        let pem = sig.to_pem(LineEnding::LF).map_err(|e| Error::internal(format!("signing: {e}")))?;
        Ok(pem.trim_end_matches('\n').to_string())
    }
}

/// Signs with an RSA key as `rsa-sha2-512`, through the `rsa` crate directly: ssh-key
/// 0.6 builds the RSA private key from the wrong primes (p twice), so its own RSA
/// signing fails; 0.7 fixes it but is not released yet.
fn sign_rsa(public: &PublicKey, key: &ssh_key::private::RsaKeypair, message: &[u8]) -> Result<SshSig> {
    use rsa::signature::{SignatureEncoding, Signer as _};
    let crypto = |e: &dyn std::fmt::Display| Error::internal(format!("signing with RSA: {e}"));
    let big = |m: &ssh_key::Mpint| rsa::BigUint::from_bytes_be(m.as_positive_bytes().unwrap_or(&[]));
    let private = rsa::RsaPrivateKey::from_components(
        big(&key.public.n),
        big(&key.public.e),
        big(&key.private.d),
        vec![big(&key.private.p), big(&key.private.q)],
    )
    .map_err(|e| crypto(&e))?;
    let data = SshSig::signed_data(NAMESPACE, HashAlg::Sha512, message).map_err(|e| crypto(&e))?;
    let signing_key = rsa::pkcs1v15::SigningKey::<sha2::Sha512>::new(private);
    let signature = signing_key.try_sign(&data).map_err(|e| crypto(&e))?;
    let signature =
        ssh_key::Signature::new(ssh_key::Algorithm::Rsa { hash: Some(HashAlg::Sha512) }, signature.to_vec())
            .map_err(|e| crypto(&e))?;
    SshSig::new(public.key_data().clone(), NAMESPACE, HashAlg::Sha512, signature).map_err(|e| crypto(&e))
}

fn expand_home(spec: &str) -> PathBuf {
    match (spec.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(spec),
    }
}
