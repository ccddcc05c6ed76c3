//! Shared helpers for seqcast's criterion benches, which run each seqcast
//! crate beside its peers in one run and print our time as a ratio of theirs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where criterion keeps its results for this workspace.
fn criterion_dir() -> PathBuf {
    // CARGO_TARGET_DIR if set, else <workspace>/target.
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("benches/ sits in the workspace")
                .join("target")
        })
        .join("criterion")
}

/// The mean time (ns) criterion measured for `group/function/parameter` in
/// this run, if it ran.
///
/// ```
/// assert_eq!(seqcast_benches::mean_ns("no-such-group", "f", "1"), None);
/// ```
pub fn mean_ns(group: &str, function: &str, parameter: &str) -> Option<f64> {
    read_mean(&criterion_dir().join(group).join(function).join(parameter))
}

/// The mean time (ns) for `group/function`, a row with no parameter.
///
/// ```
/// assert_eq!(seqcast_benches::mean_ns_flat("no-such-group", "f"), None);
/// ```
pub fn mean_ns_flat(group: &str, function: &str) -> Option<f64> {
    read_mean(&criterion_dir().join(group).join(function))
}

fn read_mean(dir: &Path) -> Option<f64> {
    let path = dir.join("new").join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    // {"mean":{"confidence_interval":{...},"point_estimate":123.4,...},...}
    let mean = &text[text.find("\"mean\"")?..];
    let pe = &mean[mean.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = pe.find([',', '}'])?;
    pe[..end].trim().parse().ok()
}

/// Prints, for each parameter of `group`, our mean time and each peer's, with
/// the ratio ours/peer (below 1.0 means we are faster).
///
/// ```
/// // Nothing measured under that name: prints only the header.
/// seqcast_benches::print_ratios("no-such-group", "ours", &["peer"], &["8"]);
/// ```
pub fn print_ratios(group: &str, ours: &str, peers: &[&str], parameters: &[&str]) {
    println!("\n{group}: mean ns per operation, ratio = {ours} / peer (< 1.0: {ours} faster)");
    for p in parameters {
        let Some(us) = mean_ns(group, ours, p) else {
            continue;
        };
        let mut line = format!("  {p:>6}: {ours} {us:8.2}");
        for peer in peers {
            if let Some(them) = mean_ns(group, peer, p) {
                line.push_str(&format!("   {peer} {them:8.2} (ratio {:.2})", us / them));
            }
        }
        println!("{line}");
    }
}

/// [`print_ratios`] for a group whose rows have no parameter
/// (`group/<function>`).
///
/// ```
/// seqcast_benches::print_ratios_flat("no-such-group", "ours", &["peer"]);
/// ```
pub fn print_ratios_flat(group: &str, ours: &str, peers: &[&str]) {
    println!("\n{group}: mean ns per operation, ratio = {ours} / peer (< 1.0: {ours} faster)");
    let Some(us) = mean_ns_flat(group, ours) else {
        return;
    };
    let mut line = format!("  {ours} {us:8.2}");
    for peer in peers {
        if let Some(them) = mean_ns_flat(group, peer) {
            line.push_str(&format!("   {peer} {them:8.2} (ratio {:.2})", us / them));
        }
    }
    println!("{line}");
}

/// Prints each function's marginal cost per unit between two parameters of
/// `group`: `(mean(to) - mean(from)) / units`, e.g. ns per extra subscriber.
///
/// ```
/// seqcast_benches::print_marginal("no-such-group", &["ours"], "1", "32", 31.0);
/// ```
pub fn print_marginal(group: &str, functions: &[&str], from: &str, to: &str, units: f64) {
    println!("\n{group}: marginal ns per unit from {from} to {to}");
    for f in functions {
        if let (Some(a), Some(b)) = (mean_ns(group, f, from), mean_ns(group, f, to)) {
            println!("  {f:>20}: {:8.2}", (b - a) / units);
        }
    }
}

/// Pins the calling thread to core `core` (modulo the core count), so
/// cross-thread rows keep their placement from run to run.
///
/// The core list is read once, before any pinning: `get_core_ids` reports
/// the *calling thread's* affinity mask, so after pinning the main thread it
/// would list a single core and every thread would land on it.
///
/// ```
/// seqcast_benches::pin(0); // on a machine without affinity support: no-op
/// ```
pub fn pin(core: usize) {
    static CORES: OnceLock<Vec<core_affinity::CoreId>> = OnceLock::new();
    let ids = CORES.get_or_init(|| core_affinity::get_core_ids().unwrap_or_default());
    if let Some(id) = ids.get(core % ids.len().max(1)) {
        core_affinity::set_for_current(*id);
    }
}

/// The runtime every async bench runs on: tokio's multi-thread runtime
/// with 2 workers (this machine's cores), timers and I/O enabled.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Whether `SEQCAST_NO_PAIRED` is set: a bench then skips the passes it
/// runs after criterion's rows (which run whatever the criterion filter),
/// so that one filtered row can be profiled alone.
///
/// ```
/// if seqcast_benches::paired_pass_skipped() {
///     return; // as a bench's `main` does after its criterion rows
/// }
/// ```
pub fn paired_pass_skipped() -> bool {
    std::env::var_os("SEQCAST_NO_PAIRED").is_some()
}

/// A paired pass: `warm_up` rounds, then `rounds` rounds of one run of
/// `ours` and one of `peer`, in turn, the order swapped every round, so a
/// drift of the machine's speed between rows run seconds apart does not
/// land on one side only. Each closure returns the time its run took.
/// Returns each round's time ratio, ours / peer, sorted (the median is
/// the middle one).
///
/// ```
/// use std::cell::RefCell;
/// use std::time::Duration;
///
/// let log = RefCell::new(Vec::new());
/// let ratios = seqcast_benches::paired_ratios(
///     1,
///     2,
///     || {
///         log.borrow_mut().push('o');
///         Duration::from_millis(2)
///     },
///     || {
///         log.borrow_mut().push('p');
///         Duration::from_millis(1)
///     },
/// );
/// assert_eq!(ratios, [2.0, 2.0]);
/// assert_eq!(log.into_inner(), ['o', 'p', 'o', 'p', 'p', 'o']);
/// ```
pub fn paired_ratios(
    warm_up: usize,
    rounds: usize,
    mut ours: impl FnMut() -> std::time::Duration,
    mut peer: impl FnMut() -> std::time::Duration,
) -> Vec<f64> {
    for _ in 0..warm_up {
        ours();
        peer();
    }
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|round| {
            let (a, b) = if round % 2 == 0 {
                let a = ours();
                (a, peer())
            } else {
                let b = peer();
                (ours(), b)
            };
            a.as_secs_f64() / b.as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios
}
