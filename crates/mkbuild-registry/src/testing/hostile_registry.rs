//! A hostile registry for tests, on 127.0.0.1: it serves one ModelKit (a manifest and its blobs,
//! for any repository) and takes pushes, but misbehaves in one chosen way: an endless manifest,
//! error body or token, a head and then silence, one byte a second, a blob that stops half way, an
//! upload `Location` or a blob redirect pointing at a second server on another port, the sniffer,
//! which records whether any request it got carried `Authorization`.
//!
//! Each connection carries one request (`Connection: close`). Every connection thread ends within
//! [`MAX_CONNECTION_TIME`], and at once when the server is dropped, so a test cannot hang on it.

use std::collections::HashMap;
use std::io::{self, BufRead as _, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mkbuild_store::Digest;

/// The longest a connection is served (an endless body ends then).
pub const MAX_CONNECTION_TIME: Duration = Duration::from_secs(60);

/// How the registry misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostility {
    /// None: a small, correct registry (with Basic auth when credentials are set).
    None,
    /// A manifest `GET` answers `200` with a chunked body that never ends.
    EndlessManifest,
    /// A manifest `GET` answers `500` with a chunked error body that never ends (a `404` would be
    /// read as a missing tag, whatever its body).
    EndlessError,
    /// Every request asks for a bearer token, whose service answers with a body that never ends.
    EndlessToken,
    /// A manifest `GET` is read and never answered.
    NoAnswer,
    /// A manifest `GET` answers a head (`Content-Length: 100000`), then nothing.
    HeadThenSilence,
    /// A manifest `GET` answers a head, then one byte a second.
    OneBytePerSecond,
    /// A blob `GET` sends half the blob, then nothing.
    StallMidBlob,
    /// A blob `GET` sends half the blob and closes; asked for the rest by `Range`, it answers
    /// `206` with the whole blob from byte 0 (`Content-Range: bytes 0-...`).
    WrongRange,
    /// Upload requests (`PATCH`, the closing `PUT`) are read and never answered.
    SilentUploads,
    /// An upload `POST` answers with a `Location` on the sniffer.
    UploadElsewhere,
    /// A blob `GET` is redirected (`307`) to the sniffer, which serves the blob.
    RedirectBlobs,
    /// Not hostile but strict: a manifest `GET` answers `403` with the distribution error code
    /// `DENIED`, as Harbor or a cloud registry does for a user without access to the repository.
    Denied,
    /// Not hostile: every request needs a bearer token, which the sniffer hands out as the token
    /// service (the realm) of the challenge.
    TokenElsewhere,
}

/// The token the sniffer hands out in [`Hostility::TokenElsewhere`].
pub const TOKEN: &str = "hostile-token";

/// One request a server got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    /// The bytes of body that arrived (fewer than announced when the client aborted it).
    pub body_bytes: u64,
}

struct State {
    hostility: Hostility,
    /// `user:password` in base64, when requests must carry Basic credentials.
    basic: Option<String>,
    manifest: Vec<u8>,
    blobs: HashMap<String, Vec<u8>>,
    pushed_manifest: Mutex<Option<Vec<u8>>>,
    seen: Mutex<Vec<SeenRequest>>,
    sniffer_seen: Mutex<Vec<SeenRequest>>,
    uploads: AtomicUsize,
    stop: AtomicBool,
    addr: Mutex<Option<SocketAddr>>,
    sniffer_addr: Mutex<Option<SocketAddr>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The hostile registry and its sniffer; both stop when it is dropped.
pub struct HostileRegistry {
    addr: SocketAddr,
    sniffer: SocketAddr,
    state: Arc<State>,
    accepts: Vec<JoinHandle<()>>,
}

impl HostileRegistry {
    /// Starts the registry serving `manifest` and `blobs`; with `credentials` (`user`, `password`)
    /// every request to it must carry them as Basic auth.
    pub fn start(
        hostility: Hostility,
        manifest: Vec<u8>,
        blobs: Vec<Vec<u8>>,
        credentials: Option<(&str, &str)>,
    ) -> io::Result<HostileRegistry> {
        use base64::Engine as _;
        let registry = TcpListener::bind(("127.0.0.1", 0))?;
        let sniffer = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = registry.local_addr()?;
        let sniffer_addr = sniffer.local_addr()?;
        let state = Arc::new(State {
            hostility,
            basic: credentials.map(|(user, password)| {
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            }),
            manifest,
            blobs: blobs
                .into_iter()
                .map(|b| (Digest::of(&b).to_string(), b))
                .collect(),
            pushed_manifest: Mutex::new(None),
            seen: Mutex::new(Vec::new()),
            sniffer_seen: Mutex::new(Vec::new()),
            uploads: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            addr: Mutex::new(Some(addr)),
            sniffer_addr: Mutex::new(Some(sniffer_addr)),
        });
        let accepts = vec![
            accept_loop(registry, Arc::clone(&state), serve_registry),
            accept_loop(sniffer, Arc::clone(&state), serve_sniffer),
        ];
        Ok(HostileRegistry {
            addr,
            sniffer: sniffer_addr,
            state,
            accepts,
        })
    }

    /// `127.0.0.1:<port>`, to use as the registry host.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The sniffer's `127.0.0.1:<port>`.
    pub fn sniffer_host(&self) -> String {
        self.sniffer.to_string()
    }

    /// The requests the registry got.
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.state.seen).clone()
    }

    /// The requests the sniffer (the other port) got.
    pub fn sniffed(&self) -> Vec<SeenRequest> {
        lock(&self.state.sniffer_seen).clone()
    }

    /// The manifest bytes pushed, if any.
    pub fn pushed_manifest(&self) -> Option<Vec<u8>> {
        lock(&self.state.pushed_manifest).clone()
    }
}

impl Drop for HostileRegistry {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the accept loops so that they see the flag.
        for addr in [self.addr, self.sniffer] {
            let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        }
        for accept in self.accepts.drain(..) {
            let _ = accept.join();
        }
    }
}

type Serve = fn(&mut TcpStream, &Request, &State) -> io::Result<()>;

fn accept_loop(listener: TcpListener, state: Arc<State>, serve: Serve) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if state.stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(mut stream) = stream else { continue };
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
                if let Ok(request) = read_request(&mut stream) {
                    let _ = serve(&mut stream, &request, &state);
                }
                let _ = stream.shutdown(std::net::Shutdown::Both);
            });
        }
    })
}

struct Request {
    method: String,
    /// Without the query.
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    /// The first [`BODY_KEPT`] bytes of the body.
    body: Vec<u8>,
    body_bytes: u64,
}

/// What is kept of a request body (a manifest); the rest is read and dropped.
const BODY_KEPT: u64 = 8 * 1024 * 1024;

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn seen(&self) -> SeenRequest {
        SeenRequest {
            method: self.method.clone(),
            path: format!("{}?{}", self.path, self.query),
            authorization: self.header("authorization").map(str::to_owned),
            body_bytes: self.body_bytes,
        }
    }
}

/// Reads a request's head and its body (by `Content-Length` or chunked), keeping the start of it.
fn read_request(stream: &mut TcpStream) -> io::Result<Request> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let mut request = Request {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: Vec::new(),
        body_bytes: 0,
    };
    let mut body = Vec::new();
    if let Some(length) = request
        .header("content-length")
        .and_then(|v| v.parse::<u64>().ok())
    {
        io::copy(&mut (&mut reader).take(length), &mut body)?;
    } else if request
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = u64::from_str_radix(size.trim(), 16).unwrap_or(0);
            io::copy(&mut (&mut reader).take(size), &mut body)?;
            io::copy(&mut (&mut reader).take(2), &mut io::sink())?;
            if size == 0 {
                break;
            }
        }
    }
    request.body_bytes = body.len() as u64;
    body.truncate(usize::try_from(BODY_KEPT).unwrap_or(usize::MAX));
    request.body = body;
    Ok(request)
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()
}

/// A chunked body that never ends (until the client leaves, the server stops or time is up).
fn endless(stream: &mut TcpStream, status: &str, state: &State) -> io::Result<()> {
    stream.write_all(
        format!("HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
            .as_bytes(),
    )?;
    let chunk = vec![b' '; 64 * 1024];
    let frame = [
        format!("{:x}\r\n", chunk.len()).into_bytes(),
        chunk,
        b"\r\n".to_vec(),
    ]
    .concat();
    stream.write_all(b"1\r\n{\r\n")?;
    let start = Instant::now();
    while start.elapsed() < MAX_CONNECTION_TIME && !state.stop.load(Ordering::SeqCst) {
        stream.write_all(&frame)?;
    }
    Ok(())
}

/// Waits, sending `drip` bytes one a second if given, until time is up or the server stops.
fn linger(stream: &mut TcpStream, drip: bool, state: &State) -> io::Result<()> {
    let start = Instant::now();
    let mut last = Instant::now();
    while start.elapsed() < MAX_CONNECTION_TIME && !state.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
        if drip && last.elapsed() >= Duration::from_secs(1) {
            stream.write_all(b" ")?;
            stream.flush()?;
            last = Instant::now();
        }
    }
    Ok(())
}

fn serve_registry(stream: &mut TcpStream, request: &Request, state: &State) -> io::Result<()> {
    lock(&state.seen).push(request.seen());
    let me = lock(&state.addr).map(|a| a.to_string()).unwrap_or_default();
    let sniffer = lock(&state.sniffer_addr)
        .map(|a| a.to_string())
        .unwrap_or_default();
    if request.path == "/token" {
        return endless(stream, "200 OK", state);
    }
    let authorization = request.header("authorization");
    if state.hostility == Hostility::EndlessToken && authorization.is_none() {
        let challenge = format!(r#"Bearer realm="http://{me}/token",service="hostile""#);
        return respond(
            stream,
            "401 Unauthorized",
            &[("WWW-Authenticate", challenge)],
            b"{}",
        );
    }
    let challenge = match (state.hostility, &state.basic) {
        (Hostility::TokenElsewhere, _)
            if authorization != Some(format!("Bearer {TOKEN}").as_str()) =>
        {
            Some(format!(
                r#"Bearer realm="http://{sniffer}/token",service="hostile""#
            ))
        }
        (Hostility::TokenElsewhere, _) => None,
        (_, Some(basic)) if authorization != Some(format!("Basic {basic}").as_str()) => {
            Some(r#"Basic realm="hostile""#.to_owned())
        }
        _ => None,
    };
    if let Some(challenge) = challenge {
        return respond(
            stream,
            "401 Unauthorized",
            &[("WWW-Authenticate", challenge)],
            b"{}",
        );
    }
    let path = request.path.as_str();
    let method = request.method.as_str();
    if path == "/v2/" {
        return respond(stream, "200 OK", &[], b"{}");
    }
    if path.contains("/manifests/") {
        let media_type = (
            "Content-Type",
            "application/vnd.oci.image.manifest.v1+json".to_owned(),
        );
        return match (method, state.hostility) {
            ("PUT", _) => {
                *lock(&state.pushed_manifest) = Some(request.body.clone());
                respond(stream, "201 Created", &[], b"")
            }
            ("GET", Hostility::EndlessManifest) => endless(stream, "200 OK", state),
            ("GET", Hostility::EndlessError) => endless(stream, "500 Internal Server Error", state),
            ("GET", Hostility::NoAnswer) => linger(stream, false, state),
            ("GET", Hostility::Denied) => respond(
                stream,
                "403 Forbidden",
                &[("Content-Type", "application/json".to_owned())],
                br#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
            ),
            ("GET", Hostility::HeadThenSilence | Hostility::OneBytePerSecond) => {
                stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 100000\r\n\r\n")?;
                stream.flush()?;
                linger(
                    stream,
                    state.hostility == Hostility::OneBytePerSecond,
                    state,
                )
            }
            ("HEAD", _) => {
                let pushed = lock(&state.pushed_manifest).clone();
                let bytes = pushed.unwrap_or_else(|| state.manifest.clone());
                let digest = ("Docker-Content-Digest", Digest::of(&bytes).to_string());
                respond(stream, "200 OK", &[media_type, digest], b"")
            }
            _ => respond(stream, "200 OK", &[media_type], &state.manifest),
        };
    }
    if let Some(digest) = path
        .split("/blobs/")
        .nth(1)
        .filter(|d| d.starts_with("sha256:"))
    {
        let Some(blob) = state.blobs.get(digest) else {
            return respond(stream, "404 Not Found", &[], b"{}");
        };
        return match (method, state.hostility) {
            ("HEAD", _) => respond(stream, "200 OK", &[], b""),
            (_, Hostility::RedirectBlobs) => {
                let location = format!("http://{sniffer}/blob/{digest}");
                respond(
                    stream,
                    "307 Temporary Redirect",
                    &[("Location", location)],
                    b"",
                )
            }
            (_, Hostility::StallMidBlob) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                    blob.len()
                );
                stream.write_all(head.as_bytes())?;
                stream.write_all(&blob[..blob.len() / 2])?;
                stream.flush()?;
                linger(stream, false, state)
            }
            (_, Hostility::WrongRange) if request.header("range").is_some() => {
                let range = (
                    "Content-Range",
                    format!("bytes 0-{}/{}", blob.len().saturating_sub(1), blob.len()),
                );
                respond(stream, "206 Partial Content", &[range], blob)
            }
            (_, Hostility::WrongRange) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
                    blob.len()
                );
                stream.write_all(head.as_bytes())?;
                stream.write_all(&blob[..blob.len() / 2])?;
                stream.flush()?;
                Ok(())
            }
            _ => respond(stream, "200 OK", &[], blob),
        };
    }
    if path.ends_with("/blobs/uploads/") && method == "POST" {
        let n = state.uploads.fetch_add(1, Ordering::SeqCst);
        let host = if state.hostility == Hostility::UploadElsewhere {
            sniffer
        } else {
            me
        };
        let location = format!("http://{host}/upload/{n}");
        return respond(
            stream,
            "202 Accepted",
            &[("Location", location), ("Range", "0-0".to_owned())],
            b"",
        );
    }
    if path.starts_with("/upload/") {
        if state.hostility == Hostility::SilentUploads {
            return linger(stream, false, state);
        }
        return serve_upload(stream, request);
    }
    respond(stream, "404 Not Found", &[], b"{}")
}

/// The upload session endpoints, wherever they are: every chunk and the final `PUT` accepted.
fn serve_upload(stream: &mut TcpStream, request: &Request) -> io::Result<()> {
    let here = ("Location", request.path.clone());
    match request.method.as_str() {
        "PATCH" => respond(stream, "202 Accepted", &[here], b""),
        "PUT" => respond(stream, "201 Created", &[], b""),
        _ => respond(stream, "204 No Content", &[here], b""),
    }
}

fn serve_sniffer(stream: &mut TcpStream, request: &Request, state: &State) -> io::Result<()> {
    lock(&state.sniffer_seen).push(request.seen());
    if request.path == "/token" {
        let body = format!(r#"{{"token":"{TOKEN}"}}"#);
        return respond(stream, "200 OK", &[], body.as_bytes());
    }
    if let Some(digest) = request.path.strip_prefix("/blob/") {
        return match state.blobs.get(digest) {
            Some(blob) => respond(stream, "200 OK", &[], blob),
            None => respond(stream, "404 Not Found", &[], b""),
        };
    }
    serve_upload(stream, request)
}
