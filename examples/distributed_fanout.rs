//! seqcast across processes: one forwarding process and two reading
//! processes on loopback, through a `nats-server` this example starts.
//!
//! Run with `cargo run --release --example distributed_fanout`; it needs
//! `nats-server` (Debian: `apt-get install nats-server`) on the PATH or in
//! /usr/sbin, and says so (exiting 0) when it is not there.
//!
//! The coordinator (this binary without arguments) starts the server on a
//! free port, then runs itself three times: two `reader` processes that
//! subscribe with `bridge_nats::subscribe` and read with the ordinary
//! `recv` loop of a broadcast receiver, then one `forwarder` process that
//! sends quotes into a local `seqcast::broadcast` channel forwarded with
//! `bridge_nats::forward`, and drops its sender: the close crosses the
//! wire, the readers drain and see `Closed`. It prints what each process
//! printed and checks that both readers got every quote, in order, with
//! no loss reported. Every wait is bounded (30 s in all).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use seqcast::broadcast;
use seqcast::broadcast::error::RecvError;
use seqcast_test_support::nats::NatsServer;

const SUBJECT: &str = "fanout.quotes";
const QUOTES: u64 = 20;
const DEADLINE: Duration = Duration::from_secs(30);

/// What crosses the wire: any serde type both ends agree on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Quote {
    seq: u64,
    symbol: String,
    price_cents: u64,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => coordinator(),
        ["reader", url, name] => runtime().block_on(reader(url, name)),
        ["forwarder", url] => runtime().block_on(forwarder(url)),
        _ => {
            eprintln!("usage: distributed_fanout [reader URL NAME | forwarder URL]");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn options() -> bridge_nats::Options {
    bridge_nats::Options::default()
        .heartbeat_interval(Duration::from_millis(250))
        .heartbeat_timeout(Duration::from_secs(3))
}

async fn connect(url: &str) -> async_nats::Client {
    tokio::time::timeout(Duration::from_secs(10), async_nats::connect(url))
        .await
        .expect("connecting took over 10 s")
        .expect("connecting to nats-server")
}

/// A reading process: prints `ready` once subscribed, then each quote.
async fn reader(url: &str, name: &str) -> ExitCode {
    let client = connect(url).await;
    let mut rx = bridge_nats::subscribe_with::<Quote, _>(
        &client,
        SUBJECT,
        256,
        options(),
        bridge_nats::Postcard,
    )
    .await
    .expect("subscribing");
    println!("ready");
    let (mut got, mut lost) = (0u64, 0u64);
    loop {
        // Bounded: a silent forwarder is reported after the heartbeat
        // timeout, but never wait past the example's deadline.
        match tokio::time::timeout(DEADLINE, rx.recv()).await {
            Ok(Ok(q)) => {
                got += 1;
                println!(
                    "{name} got #{} {} at {}.{:02}",
                    q.seq,
                    q.symbol,
                    q.price_cents / 100,
                    q.price_cents % 100
                );
            }
            Ok(Err(RecvError::Lagged(n))) => {
                lost += n;
                println!("{name} was told {n} quotes were lost");
            }
            Ok(Err(RecvError::Closed)) => break,
            Err(_) => {
                println!("{name} timed out");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{name} done: {got} quotes, {lost} lost, then closed");
    ExitCode::SUCCESS
}

/// The forwarding process: a local broadcast channel, forwarded.
async fn forwarder(url: &str) -> ExitCode {
    let client = connect(url).await;
    let (tx, rx) = broadcast::channel::<Quote>(256);
    let forwarding =
        bridge_nats::forward_with(rx, client, SUBJECT, options(), bridge_nats::Postcard);
    for seq in 1..=QUOTES {
        let symbol = ["ACME", "GLOBEX", "INITECH"][(seq % 3) as usize].to_owned();
        tx.send(Quote {
            seq,
            symbol,
            price_cents: 10_000 + seq * 25,
        })
        .expect("the forwarder's receiver is there");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(tx); // the close: forwarded after the last quote
    match tokio::time::timeout(DEADLINE, forwarding).await {
        Ok(Ok(Ok(stats))) => {
            println!(
                "forwarder done: {} quotes ({} bytes) published, {} heartbeats, close sent",
                stats.values, stats.bytes, stats.heartbeats
            );
            ExitCode::SUCCESS
        }
        other => {
            println!("forwarder failed: {other:?}");
            ExitCode::FAILURE
        }
    }
}

/// Runs this binary with `args`, its output read line by line on a thread.
fn spawn(args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let exe = std::env::current_exe().expect("this example's path");
    let mut child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawning a role process");
    let out = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits for `child` to exit before `deadline`; kills it if it does not.
fn wait(child: &mut Child, deadline: Instant) -> bool {
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn coordinator() -> ExitCode {
    let Some(server) = NatsServer::start() else {
        println!(
            "distributed_fanout: nats-server is not installed (not on PATH nor in /usr/sbin), \
             so there is nothing to connect the processes through. Install it \
             (`apt-get install nats-server`) and run again. Skipped."
        );
        return ExitCode::SUCCESS;
    };
    let deadline = Instant::now() + DEADLINE;
    let url = server.url();
    println!("nats-server on {url}; starting 2 readers, then 1 forwarder");
    let mut readers = Vec::new();
    for name in ["reader-A", "reader-B"] {
        let (child, lines) = spawn(&["reader", &url, name]);
        let first = lines.recv_timeout(Duration::from_secs(15));
        assert_eq!(first.as_deref(), Ok("ready"), "{name} did not subscribe");
        readers.push((name, child, lines));
    }
    let (mut fwd, fwd_lines) = spawn(&["forwarder", &url]);
    let fwd_ok = wait(&mut fwd, deadline);
    let mut ok = fwd_ok;
    for line in fwd_lines.try_iter() {
        println!("[forwarder] {line}");
    }
    for (name, mut child, lines) in readers {
        let exited = wait(&mut child, deadline);
        let got: Vec<String> = lines.try_iter().collect();
        for line in &got {
            println!("[{name}] {line}");
        }
        let seqs: Vec<u64> = got
            .iter()
            .filter_map(|l| l.split('#').nth(1)?.split(' ').next()?.parse().ok())
            .collect();
        let complete = seqs == (1..=QUOTES).collect::<Vec<_>>();
        let clean = got
            .last()
            .is_some_and(|l| l.ends_with(&format!("{QUOTES} quotes, 0 lost, then closed")));
        if !(exited && complete && clean) {
            println!("{name}: FAILED (exited ok: {exited}, every quote in order: {complete})");
            ok = false;
        }
    }
    drop(server);
    if ok {
        println!(
            "both readers got all {QUOTES} quotes in order, then the close; the forwarder exited cleanly"
        );
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
