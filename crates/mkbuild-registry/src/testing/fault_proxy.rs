//! A small HTTP proxy on 127.0.0.1 in front of a test registry that breaks what a test asks it to:
//! it drops a chosen upload chunk, cuts blob downloads after some bytes, or flips a byte in every
//! blob it serves. Each connection carries one request (`Connection: close` is forced both ways),
//! so the proxy needs no HTTP framing beyond the heads.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// What to break.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Close the connection of the n-th `PATCH` (1-based) before forwarding any of it, as if the
    /// network went down between two chunks.
    pub drop_patch: Option<usize>,
    /// Forward only `.1` body bytes of the `.0`-th `PATCH` (1-based), then close both connections,
    /// as if the network went down in the middle of a chunk.
    pub cut_patch: Option<(usize, usize)>,
    /// Cut the first `.0` blob downloads after `.1` bytes of body.
    pub cut_blob_downloads: Option<(usize, usize)>,
    /// Flip the first byte of the body of every blob download.
    pub corrupt_blobs: bool,
    /// Stop sending the body of every blob download after this many bytes and hold the
    /// connection open, as a network that hangs: the client waits until killed or timed out.
    pub stall_blob_downloads: Option<usize>,
}

/// What went through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyStats {
    pub patch_requests: usize,
    /// Bytes of `PATCH` bodies forwarded to the registry.
    pub patch_body_bytes: u64,
    pub dropped_patches: usize,
    pub cut_patches: usize,
    pub blob_downloads: usize,
    /// Blob downloads that asked for a range starting after byte 0.
    pub resumed_blob_downloads: usize,
    pub cut_blob_downloads: usize,
    /// Bytes of blob download bodies sent to the client.
    pub blob_body_bytes: u64,
}

struct State {
    backend: SocketAddr,
    faults: Faults,
    stats: Mutex<ProxyStats>,
}

impl State {
    fn stats(&self) -> MutexGuard<'_, ProxyStats> {
        self.stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The proxy; it stops accepting when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    pub fn start(backend: SocketAddr, faults: Faults) -> io::Result<FaultProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            backend,
            faults,
            stats: Mutex::new(ProxyStats::default()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let state = Arc::clone(&state);
                    std::thread::spawn(move || {
                        let _ = handle(client, &state);
                    });
                }
            })
        };
        Ok(FaultProxy {
            addr,
            state,
            stop,
            accept: Some(accept),
        })
    }

    /// `127.0.0.1:<port>`, to use as the registry host.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn stats(&self) -> ProxyStats {
        self.state.stats().clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn handle(mut client: TcpStream, state: &State) -> io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let (head, rest) = read_head(&mut client)?;
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut forwarded = format!("{request_line}\r\n");
    for (name, value) in &headers {
        if !name.eq_ignore_ascii_case("connection") {
            forwarded.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    forwarded.push_str("Connection: close\r\n\r\n");

    let is_patch = method == "PATCH";
    let is_blob_get = method == "GET" && path.contains("/blobs/sha256:");
    let mut cut_after = None;
    let mut cut_patch_after = None;
    {
        let mut stats = state.stats();
        if is_patch {
            stats.patch_requests += 1;
            if state.faults.drop_patch == Some(stats.patch_requests) {
                stats.dropped_patches += 1;
                drop(stats);
                let _ = client.shutdown(Shutdown::Both);
                return Ok(());
            }
            if let Some((nth, after)) = state.faults.cut_patch {
                if nth == stats.patch_requests {
                    stats.cut_patches += 1;
                    cut_patch_after = Some(after);
                }
            }
        }
        if is_blob_get {
            stats.blob_downloads += 1;
            let resumed = headers.iter().any(|(name, value)| {
                name.eq_ignore_ascii_case("range") && !value.trim().starts_with("bytes=0-")
            });
            if resumed {
                stats.resumed_blob_downloads += 1;
            }
            if let Some((times, after)) = state.faults.cut_blob_downloads {
                // Counted in `relay_response`, when a body is long enough to be cut.
                if stats.cut_blob_downloads < times {
                    cut_after = Some(after);
                }
            }
        }
    }

    let mut backend = TcpStream::connect(state.backend)?;
    backend.set_read_timeout(Some(Duration::from_secs(60)))?;
    backend.write_all(forwarded.as_bytes())?;
    if let Some(after) = cut_patch_after {
        return forward_part_of_body(&mut client, &mut backend, rest, after, state);
    }
    backend.write_all(&rest)?;
    if is_patch {
        state.stats().patch_body_bytes += rest.len() as u64;
    }
    let upstream = {
        let mut from = client.try_clone()?;
        let mut to = backend.try_clone()?;
        let count_patch = is_patch;
        let state_stats = &state.stats;
        // Scoped so that the thread may borrow the state.
        std::thread::scope(|scope| {
            let pump = scope.spawn(move || {
                let mut buffer = vec![0u8; 64 * 1024];
                loop {
                    let n = match from.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    if to.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                    if count_patch {
                        state_stats
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .patch_body_bytes += n as u64;
                    }
                }
            });
            let result = relay_response(
                &mut backend,
                &mut client,
                Relay {
                    cut_after,
                    corrupt: is_blob_get && state.faults.corrupt_blobs,
                    stall_after: state.faults.stall_blob_downloads.filter(|_| is_blob_get),
                    count: is_blob_get,
                },
                state,
            );
            let _ = client.shutdown(Shutdown::Both);
            let _ = backend.shutdown(Shutdown::Both);
            let _ = pump.join();
            result
        })
    };
    upstream
}

/// Forwards `limit` bytes of a request body (starting with `rest`, read with the head), then
/// closes both connections.
fn forward_part_of_body(
    client: &mut TcpStream,
    backend: &mut TcpStream,
    mut rest: Vec<u8>,
    limit: usize,
    state: &State,
) -> io::Result<()> {
    let mut sent = 0usize;
    let mut buffer = vec![0u8; 64 * 1024];
    while sent < limit {
        let chunk = if rest.is_empty() {
            let n = client.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            buffer[..n].to_vec()
        } else {
            std::mem::take(&mut rest)
        };
        let take = chunk.len().min(limit - sent);
        backend.write_all(&chunk[..take])?;
        sent += take;
    }
    state.stats().patch_body_bytes += sent as u64;
    // Give the registry a moment to store what it got, as a real broken connection would.
    std::thread::sleep(Duration::from_millis(100));
    let _ = backend.shutdown(Shutdown::Both);
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}

/// What [`relay_response`] does to an answer's body.
struct Relay {
    /// Stop (and close) after this many body bytes.
    cut_after: Option<usize>,
    /// Flip the first body byte.
    corrupt: bool,
    /// Stop sending after this many body bytes, but keep the connection open.
    stall_after: Option<usize>,
    /// Count the body bytes sent (blob downloads).
    count: bool,
}

/// Copies the registry's answer to the client, breaking its body as `relay` says; only a `200`
/// or `206` answer is broken.
fn relay_response(
    backend: &mut TcpStream,
    client: &mut TcpStream,
    relay: Relay,
    state: &State,
) -> io::Result<()> {
    let (head, mut body_start) = read_head(backend)?;
    let status_ok = head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.1 206");
    client.write_all(&head)?;
    let mut body_sent = 0usize;
    let mut corrupt_pending = relay.corrupt && status_ok;
    let mut buffer = vec![0u8; 64 * 1024];
    let sent = |n: usize| {
        if relay.count && status_ok {
            state.stats().blob_body_bytes += n as u64;
        }
    };
    loop {
        let mut chunk = if body_start.is_empty() {
            let n = backend.read(&mut buffer)?;
            if n == 0 {
                return Ok(());
            }
            buffer[..n].to_vec()
        } else {
            std::mem::take(&mut body_start)
        };
        if corrupt_pending {
            if let Some(first) = chunk.first_mut() {
                *first ^= 0xff;
                corrupt_pending = false;
            }
        }
        if let (Some(limit), true) = (relay.cut_after, status_ok) {
            let room = limit.saturating_sub(body_sent);
            if chunk.len() > room {
                state.stats().cut_blob_downloads += 1;
                client.write_all(&chunk[..room])?;
                client.flush()?;
                sent(room);
                return Ok(());
            }
        }
        if let (Some(limit), true) = (relay.stall_after, status_ok) {
            let room = limit.saturating_sub(body_sent);
            if chunk.len() > room {
                client.write_all(&chunk[..room])?;
                client.flush()?;
                sent(room);
                // Hang: the client sees no more bytes and no end, until it gives up or dies.
                std::thread::sleep(Duration::from_secs(120));
                return Ok(());
            }
        }
        client.write_all(&chunk)?;
        body_sent += chunk.len();
        sent(chunk.len());
    }
}

/// Reads up to the end of an HTTP head; returns the head and the bytes read past it.
fn read_head(stream: &mut TcpStream) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = data.split_off(end + 4);
            return Ok((data, rest));
        }
        if data.len() > 64 * 1024 {
            return Err(io::Error::other("HTTP head larger than 64 KiB"));
        }
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the end of the HTTP head",
            ));
        }
        data.extend_from_slice(&buffer[..n]);
    }
}
