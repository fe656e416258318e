//! The start of every outbound HTTP client (webhook deliveries, `askpro
//! top`). reqwest is built without a bundled crypto provider (the one rustls
//! would pick, aws-lc, builds C code with cmake); rustls uses ring, which
//! sqlx already brings, installed here as the process default before any
//! client exists.
//!
//! No client reads proxy settings from the environment (`HTTPS_PROXY`,
//! `ALL_PROXY`, ...): with a proxy the connection goes to the proxy, and the
//! destination check (which runs on the addresses the client connects to)
//! would judge the proxy instead of the tenant-chosen destination.
pub fn builder() -> reqwest::ClientBuilder {
    // Err means a provider is installed already: fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy()
}
