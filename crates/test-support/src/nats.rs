//! A real `nats-server` for bridge-nats' tests, benches and example: each
//! [`NatsServer`] runs its own server on a free loopback port, from a
//! configuration file in a temporary directory of its own, and kills it
//! (and removes the directory) on drop. No systemd, no shared state.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Settings written to the server's configuration file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `max_payload` in bytes (the server's default is 1 MiB).
    pub max_payload: Option<usize>,
    /// `max_pending` in bytes: a client whose unsent data grows past it is
    /// cut off as a slow consumer (the server's default is 64 MiB).
    pub max_pending: Option<usize>,
    /// `write_deadline`: a client whose socket stays unwritable this long
    /// is cut off as a slow consumer (the server's default is 10 s).
    pub write_deadline: Option<Duration>,
}

/// A running `nats-server`, killed on drop.
#[derive(Debug)]
pub struct NatsServer {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

/// Where `nats-server` is: `$NATS_SERVER`, then `PATH`, then
/// `/usr/sbin` and `/usr/local/bin` (Debian installs it in `/usr/sbin`,
/// which a user's `PATH` may lack).
pub fn find_server() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NATS_SERVER") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/bin", "/usr/bin"].map(PathBuf::from))
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file())
}

impl NatsServer {
    /// Starts a server with the default settings, or prints why it cannot
    /// and returns `None` (the caller skips).
    pub fn start() -> Option<NatsServer> {
        Self::start_with(Config::default())
    }

    /// Starts a server with `config`, or prints why it cannot (no
    /// `nats-server` binary) and returns `None`.
    ///
    /// # Panics
    ///
    /// If the binary exists but the server does not come up within 10 s.
    pub fn start_with(config: Config) -> Option<NatsServer> {
        let Some(binary) = find_server() else {
            eprintln!(
                "SKIPPED: nats-server not found (PATH, /usr/sbin, $NATS_SERVER); \
                 install it with `apt-get install nats-server` (.ci/run does)"
            );
            return None;
        };
        // Relaxed: only makes names differ; nothing is published through it.
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "seqcast-nats-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory for nats-server");
        let port = free_port();
        let mut conf = format!("listen: \"127.0.0.1:{port}\"\n");
        if let Some(n) = config.max_payload {
            conf += &format!("max_payload: {n}\n");
        }
        if let Some(n) = config.max_pending {
            conf += &format!("max_pending: {n}\n");
        }
        if let Some(d) = config.write_deadline {
            conf += &format!("write_deadline: \"{}ms\"\n", d.as_millis());
        }
        std::fs::write(dir.join("nats.conf"), conf).expect("writing nats.conf");
        let mut server = NatsServer {
            binary,
            dir,
            port,
            child: None,
        };
        server.spawn();
        Some(server)
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.join("nats.log")).expect("nats.log");
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(self.dir.join("nats.conf"))
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawning nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "nats-server exited with {status} at start: {}",
                    std::fs::read_to_string(self.dir.join("nats.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on port {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Its temporary directory (configuration and log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Kills it with SIGKILL (no goodbye to the clients) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            // `Child::kill` sends SIGKILL on Unix.
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port (after [`kill`](Self::kill)).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("nats.log")).unwrap_or_default()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port nobody listens on (the OS's pick).
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("binding a loopback port")
        .port()
}
