//! Outbound HTTP ignores proxy settings in the environment: with a proxy the
//! client would connect to the proxy, and the destination check (which judges
//! the addresses the client connects to) would judge the proxy instead of the
//! tenant-chosen destination. Its own test binary: the proxy variables are set
//! for the whole process.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use askpro::webhooks::sender::{Outcome, Outgoing, Sender};
use askpro::webhooks::sign::{SigningKey, generate_secret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Accepts connections, counts them, and answers each with `answer`.
async fn counting_listener(answer: &'static str) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (address, count)
}

#[tokio::test]
async fn deliveries_go_to_the_destination_not_to_an_environment_proxy() {
    let (proxy, proxy_connections) =
        counting_listener("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
    let proxy_url = format!("http://{proxy}");
    // SAFETY: set before any other thread of this test binary reads the
    // environment (this is the binary's only test, and no client exists yet).
    unsafe {
        for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            std::env::set_var(name, &proxy_url);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    let (receiver, receiver_connections) =
        counting_listener("HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").await;

    let sender = Sender::new(true);
    let key = SigningKey::from_secret(&generate_secret()).expect("generated secret");
    let url = format!("http://{receiver}/hook");
    let (outcome, _) =
        sender.post(&Outgoing { url: &url, event_id: "evt_1", body: b"{}", keys: &[key], request_id: None }).await;

    assert_eq!(outcome, Outcome::Delivered { status: 204 }, "the receiver itself answers");
    assert_eq!(receiver_connections.load(Ordering::SeqCst), 1);
    assert_eq!(proxy_connections.load(Ordering::SeqCst), 0, "nothing went through the proxy");
}
