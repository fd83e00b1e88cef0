//! The HTTPS front's certificates: a local chain shaped like DynamoDB's (a root CA → an
//! intermediate → the leaf, RSA-2048 keys, SHA-256 signatures), made fresh for each run.
//!
//! The function trusts it the way it trusts Amazon's roots on Lambda: through
//! `SSL_CERT_FILE`, a bundle holding the root alone; the server sends the leaf and the
//! intermediate, so the client verifies two signatures up to the root, as against
//! `dynamodb.<region>.amazonaws.com`.
//!
//! rcgen (the rustls project's certificate generator) with aws-lc-rs, the crypto library
//! already in the build, rather than the `openssl` command: nothing to install, and the
//! chain is made in-process in a fraction of a second.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256, RsaKeySize,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// What the front serves, and the bundle the function is given.
pub struct Chain {
    pub server: Arc<ServerConfig>,
}

fn rsa() -> anyhow::Result<KeyPair> {
    KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).context("RSA-2048 key generation")
}

fn ca_params(name: &str, path_len: u8) -> anyhow::Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

impl Chain {
    /// Makes the chain, writes the root alone to `bundle` (for `SSL_CERT_FILE`) and builds
    /// the server's configuration: TLS 1.3 and 1.2, session resumption on (rustls' defaults:
    /// a 256-entry session cache and 2 TLS 1.3 tickets per handshake).
    /// `resumption: false` turns it off (no session cache, no tickets), to measure what it saves.
    pub fn generate(bundle: &Path, resumption: bool) -> anyhow::Result<Self> {
        let root = CertifiedIssuer::self_signed(ca_params("bench root CA (RSA 2048)", 1)?, rsa()?)?;
        let intermediate = CertifiedIssuer::signed_by(ca_params("bench intermediate (RSA 2048)", 0)?, rsa()?, &root)?;
        let leaf_key = rsa()?;
        let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        leaf.distinguished_name.push(DnType::CommonName, "localhost");
        leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        let leaf = leaf.signed_by(&leaf_key, &intermediate)?;

        std::fs::write(bundle, root.pem()).with_context(|| format!("writing {bundle:?}"))?;
        let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone(), intermediate.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut server = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        if !resumption {
            server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            server.send_tls13_tickets = 0;
        }
        Ok(Self {
            server: Arc::new(server),
        })
    }
}
