//! One Stemdeck window per user: `stemdeck open FILE` (a file manager's double-click)
//! while the app runs hands the paths to the running app over a Unix domain socket and
//! exits; the running app opens them (asking about unsaved changes first).
//!
//! The socket is `stemdeck.sock` in `$STEMDECK_RUNTIME_DIR` (tests), else
//! `$XDG_RUNTIME_DIR`, else the cache folder. A socket file left by a process that died
//! refuses connections: it is removed and bound again, so it never blocks a launch.
//! Other platforms have no hand-off: every launch opens a new window.
//!
//! The protocol: the client writes [`MAGIC`] and then each path's bytes followed by a
//! NUL, closes its writing side, and waits for `ok\n`, which the app sends once it has
//! taken the request. No answer in time means no hand-off (a new window opens instead).

use std::path::{Path, PathBuf};
use std::time::Duration;

const MAGIC: &[u8] = b"STEMDECK-OPEN 1\n";
/// A request is a few paths; anything longer is not one.
const MAX_REQUEST: u64 = 1 << 20;
/// How long either side waits for the other.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Where the socket lives.
pub fn socket_path() -> Option<PathBuf> {
    let dir = std::env::var_os("STEMDECK_RUNTIME_DIR")
        .or_else(|| std::env::var_os("XDG_RUNTIME_DIR"))
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "Stemdeck").map(|p| p.cache_dir().to_owned())
        })?;
    Some(dir.join("stemdeck.sock"))
}

#[cfg(unix)]
mod imp {
    use std::io::{Read as _, Write as _};
    use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
    use std::os::unix::fs::MetadataExt as _;
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::{Path, PathBuf};

    use super::{MAGIC, MAX_REQUEST, TIMEOUT};

    /// Hand `paths` to the app listening on `socket`. `Ok(true)`: it took them;
    /// `Ok(false)`: no app is listening there (or it did not answer in time).
    pub fn send(socket: &Path, paths: &[PathBuf]) -> std::io::Result<bool> {
        let mut stream = match UnixStream::connect(socket) {
            Ok(s) => s,
            Err(_) => return Ok(false),
        };
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        let mut msg = MAGIC.to_vec();
        for p in paths {
            // The app runs in another folder: relative paths are made absolute here.
            let p = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            msg.extend_from_slice(p.as_os_str().as_bytes());
            msg.push(0);
        }
        stream.write_all(&msg)?;
        stream.shutdown(std::net::Shutdown::Write)?;
        let mut reply = Vec::new();
        match stream.take(16).read_to_end(&mut reply) {
            Ok(_) => Ok(reply == b"ok\n"),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// The listening side, owned by the running app.
    pub struct Listener {
        listener: UnixListener,
        path: PathBuf,
        ino: u64,
    }

    impl Listener {
        /// Listen on `socket`. `Ok(None)` when another live app already listens there.
        /// A socket file nobody answers on (its process died) is replaced.
        pub fn bind(socket: &Path) -> std::io::Result<Option<Listener>> {
            if socket.exists() {
                if UnixStream::connect(socket).is_ok() {
                    return Ok(None);
                }
                std::fs::remove_file(socket)?;
            }
            if let Some(dir) = socket.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let listener = UnixListener::bind(socket)?;
            let ino = std::fs::metadata(socket)?.ino();
            Ok(Some(Listener {
                listener,
                path: socket.to_owned(),
                ino,
            }))
        }

        /// Serve requests on a thread of its own for as long as the process lives:
        /// `on_open` gets each request's paths (empty: just show the window).
        pub fn spawn(self, on_open: impl Fn(Vec<PathBuf>) + Send + 'static) -> ListenerGuard {
            let guard = ListenerGuard {
                path: self.path.clone(),
                ino: self.ino,
            };
            let listener = self.listener;
            std::thread::Builder::new()
                .name("stemdeck-instance".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        let Ok(mut stream) = stream else { continue };
                        if let Some(paths) = read_request(&mut stream) {
                            on_open(paths);
                            stream.write_all(b"ok\n").ok();
                        }
                    }
                })
                .ok();
            guard
        }
    }

    /// Removes the socket file when the app ends (unless another app replaced it).
    pub struct ListenerGuard {
        path: PathBuf,
        ino: u64,
    }

    impl Drop for ListenerGuard {
        fn drop(&mut self) {
            if std::fs::metadata(&self.path).is_ok_and(|m| m.ino() == self.ino) {
                std::fs::remove_file(&self.path).ok();
            }
        }
    }

    fn read_request(stream: &mut UnixStream) -> Option<Vec<PathBuf>> {
        stream.set_read_timeout(Some(TIMEOUT)).ok()?;
        stream.set_write_timeout(Some(TIMEOUT)).ok()?;
        let mut msg = Vec::new();
        (&mut *stream)
            .take(MAX_REQUEST)
            .read_to_end(&mut msg)
            .ok()?;
        let body = msg.strip_prefix(MAGIC)?;
        Some(
            body.split(|b| *b == 0)
                .filter(|p| !p.is_empty())
                .map(|p| PathBuf::from(std::ffi::OsString::from_vec(p.to_vec())))
                .collect(),
        )
    }
}

#[cfg(not(unix))]
mod imp {
    use std::path::{Path, PathBuf};

    pub fn send(_socket: &Path, _paths: &[PathBuf]) -> std::io::Result<bool> {
        Ok(false)
    }

    pub struct Listener;
    pub struct ListenerGuard;

    impl Listener {
        pub fn bind(_socket: &Path) -> std::io::Result<Option<Listener>> {
            Ok(None)
        }
        pub fn spawn(self, _on_open: impl Fn(Vec<PathBuf>) + Send + 'static) -> ListenerGuard {
            ListenerGuard
        }
    }
}

pub use imp::{Listener, ListenerGuard, send};

/// Hand `paths` to a running app, if there is one (`Ok(true)`).
pub fn send_to_running(paths: &[PathBuf]) -> std::io::Result<bool> {
    match socket_path() {
        Some(socket) => send(&socket, paths),
        None => Ok(false),
    }
}

/// Become the app that takes hand-offs, unless another one already is (`None`).
pub fn listen() -> Option<Listener> {
    socket_path().and_then(|s| Listener::bind(Path::new(&s)).ok().flatten())
}

/// The running app's side of the hand-off, ready to use: requests arrive on
/// `requests` (give it to [`crate::AppOptions::open_requests`]), and once the window's
/// context is put in `wake`, each request also wakes the window, so an idle or
/// unfocused app reacts at once. The socket goes when this is dropped.
pub struct Handoff {
    pub requests: crossbeam_channel::Receiver<Vec<PathBuf>>,
    pub wake: std::sync::Arc<std::sync::OnceLock<egui::Context>>,
    _guard: ListenerGuard,
}

impl Handoff {
    pub fn new(listener: Listener) -> Handoff {
        let (tx, requests) = crossbeam_channel::unbounded();
        let wake = std::sync::Arc::new(std::sync::OnceLock::<egui::Context>::new());
        let waker = std::sync::Arc::clone(&wake);
        let guard = listener.spawn(move |paths| {
            tx.send(paths).ok();
            if let Some(ctx) = waker.get() {
                ctx.request_repaint();
            }
        });
        Handoff {
            requests,
            wake,
            _guard: guard,
        }
    }
}

/// Become the app that takes hand-offs at the usual socket, unless another app already
/// is (or there is no place for a socket).
pub fn serve() -> Option<Handoff> {
    listen().map(Handoff::new)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn paths_reach_the_listening_app_and_it_answers() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("stemdeck.sock");
        let (tx, rx) = mpsc::channel();
        let listener = Listener::bind(&socket).unwrap().unwrap();
        let guard = listener.spawn(move |paths| tx.send(paths).unwrap());
        let odd = PathBuf::from("/music/Night Drive/ä song\n2.stemdeck");
        assert!(send(&socket, &[odd.clone(), PathBuf::from("/b.json")]).unwrap());
        let got = rx.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(got, vec![odd, PathBuf::from("/b.json")]);
        // A second app does not take over a live socket.
        assert!(Listener::bind(&socket).unwrap().is_none());
        // Relative paths arrive absolute.
        assert!(send(&socket, &[PathBuf::from("x.stemdeck")]).unwrap());
        let got = rx.recv_timeout(TIMEOUT).unwrap();
        assert_eq!(
            got,
            vec![std::env::current_dir().unwrap().join("x.stemdeck")]
        );
        drop(guard);
        assert!(!socket.exists(), "the socket goes with the app");
    }

    #[test]
    fn a_stale_socket_from_a_dead_app_does_not_block_a_launch() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("stemdeck.sock");
        // A listener that went away without removing its file (a crash).
        drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
        assert!(socket.exists());
        assert!(!send(&socket, &[PathBuf::from("/a.stemdeck")]).unwrap());
        let listener = Listener::bind(&socket).unwrap();
        assert!(listener.is_some(), "the stale socket is replaced");
    }

    #[test]
    fn nothing_listening_means_no_hand_off() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!send(&dir.path().join("none.sock"), &[]).unwrap());
    }

    #[test]
    fn garbage_on_the_socket_is_ignored() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("stemdeck.sock");
        let (tx, rx) = mpsc::channel();
        let _guard = Listener::bind(&socket)
            .unwrap()
            .unwrap()
            .spawn(move |paths| tx.send(paths).unwrap());
        let mut s = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        assert!(send(&socket, &[PathBuf::from("/ok.json")]).unwrap());
        assert_eq!(
            rx.recv_timeout(TIMEOUT).unwrap(),
            vec![PathBuf::from("/ok.json")]
        );
    }
}
