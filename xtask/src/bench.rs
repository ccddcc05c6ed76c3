//! `cargo xtask bench`: every peer comparison in one short run, then a
//! Markdown report and SVG charts.
//!
//! * Every `[[bench]]` of `benches/Cargo.toml` runs in turn, with short
//!   criterion settings ([`CRITERION_ARGS`]: a brief warm-up, then 10
//!   samples over about half a second a row): indicative numbers in a few
//!   minutes, not publication-grade ones. Progress shows the bench, the row
//!   and the time.
//! * The rows measured in this run are written, in order, with the mean
//!   from criterion's `estimates.json`, to `target/bench-report/run.tsv`
//!   (what `--redraw` draws from). A row that did not run or left no
//!   estimate is skipped.
//! * Groups are taken as criterion names them: a new bench group appears in
//!   the report with no change here. "Ours" is any function named after a
//!   crate under `crates/` (`ring-spmc`, `ring-spmc-bounded`, ...); the
//!   others in its group are its peers, except where [`PEERS`] narrows them.
//! * Charts are drawn from fixed groups (see [`charts`]); a chart whose rows
//!   are missing is left out.
//!
//! A full run (no bench named), or `--redraw` after one, also copies the
//! report and charts to `docs/bench/` and rewrites the machine line of the
//! README's Benchmarks section.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::svg::{Bar, BarChart, LineChart, Series, bar_chart, line_chart};
use crate::{Cmd, Ctx, json_str, secs};

/// The package holding the side-by-side benches.
const PACKAGE: &str = "seqcast-benches";

/// criterion's settings for the report run, overriding each bench's own:
/// about 0.7 s a row (longer where one iteration is long: criterion then
/// runs its 10 iterations whatever they take), ~3 minutes for 190 rows on 2
/// cores. Not `--quick`: it measures two samples and no warm-up, and its
/// rows came out noticeably noisier for the same time.
const CRITERION_ARGS: &[&str] = &[
    "--warm-up-time",
    "0.2",
    "--measurement-time",
    "0.5",
    "--sample-size",
    "10",
    // 10 000 resamples instead of 100 000: the means do not move, the
    // analysis of each row takes a tenth of the time.
    "--nresamples",
    "10000",
    "--noplot",
];

/// How the report describes [`CRITERION_ARGS`].
const SETTINGS: &str = "criterion with 0.2 s of warm-up and 10 samples over about 0.5 s a row";

/// Where one of our functions is compared with only some of its group's
/// other functions. Lossy rings race lossy rings; bounded (lossless) ones
/// race the lossless peers, the hardware floor and (`throughput_1to1`)
/// disruptor with 16-byte events, our `u64` slot's size.
const PEERS: &[(&str, &[&str])] = &[
    ("ring-spmc", &["photon-ring"]),
    (
        "ring-spmc-bounded",
        &[
            "photon-ring-bounded",
            "disruptor",
            "disruptor-16B",
            "bus",
            "crossbeam",
            "hardware-floor",
        ],
    ),
];

pub(crate) const USAGE: &str = "\
usage: cargo xtask bench [--check | --redraw] [BENCH...]

  cargo xtask bench           run every bench of benches/ with short criterion settings
                              (a few minutes), then write target/bench-report/report.md
                              and its SVG charts, and copy them to docs/bench/
  cargo xtask bench spmc      only the named benches (report in target/ only)
  cargo xtask bench --redraw  rewrite the report and charts from the last run's results
                              (and docs/bench/ if that run was of every bench)
  cargo xtask bench --check   what `cargo xtask ci` runs: build every bench and run
                              each row once (criterion --test), no measurement
";

/// `cargo xtask bench --check`: the CI step.
pub(crate) fn check(ctx: &Ctx) -> Result<(), String> {
    // Every bench target of the workspace compiles...
    Cmd::cargo(ctx)
        .args(["bench", "--workspace", "--no-run"])
        .run()?;
    // ...and every row runs once (criterion's test mode: one iteration, no
    // measurement), with the bench profile just built.
    Cmd::cargo(ctx)
        .args(["bench", "-p", PACKAGE, "--benches", "--", "--test"])
        .run()
}

/// `cargo xtask bench [--redraw] [BENCH...]`.
pub(crate) fn run(ctx: &Ctx, args: &[String]) -> Result<(), String> {
    let redraw = args.iter().any(|a| a == "--redraw");
    let names: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if let Some(flag) = args.iter().find(|a| a.starts_with('-') && *a != "--redraw") {
        return Err(format!("unknown flag `{flag}`\n\n{USAGE}"));
    }
    let out = target_dir(ctx).join("bench-report");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let manifest = out.join("run.tsv");
    if !redraw {
        let all = bench_names(ctx)?;
        for n in &names {
            if !all.iter().any(|b| b == n) {
                return Err(format!("no bench `{n}` (benches: {})", all.join(", ")));
            }
        }
        let benches: Vec<String> = if names.is_empty() {
            all
        } else {
            names.iter().map(|n| (*n).to_owned()).collect()
        };
        measure(ctx, &benches, names.is_empty(), &manifest)?;
    }
    let machine = if redraw {
        std::fs::read_to_string(out.join("machine.txt")).unwrap_or_default()
    } else {
        let m = machine_lines(ctx);
        let _ = std::fs::write(out.join("machine.txt"), &m);
        m
    };
    let results = Results::load(&manifest)?;
    let ours = our_crates(ctx);
    let files = write_report(&out, &results, &ours, &machine)?;
    println!("\nreport: {}", out.join("report.md").display());
    for f in &files {
        println!("chart:  {}", out.join(f).display());
    }
    // A run of every bench (or a redraw of one) is what the repository shows.
    if results.full {
        let docs = ctx.root.join("docs/bench");
        std::fs::create_dir_all(&docs).map_err(|e| format!("{}: {e}", docs.display()))?;
        for f in files.iter().map(String::as_str).chain(["report.md"]) {
            std::fs::copy(out.join(f), docs.join(f))
                .map_err(|e| format!("cannot copy {f} to {}: {e}", docs.display()))?;
        }
        update_readme(ctx, &machine, results.others)?;
        println!("copied to {} and updated README.md", docs.display());
    }
    if results.failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "benches that failed (their rows are missing): {}",
            results.failed.join(", ")
        ))
    }
}

fn target_dir(ctx: &Ctx) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_relative() { ctx.root.join(p) } else { p })
        .unwrap_or_else(|| ctx.root.join("target"))
}

/// The `[[bench]]` names of `benches/Cargo.toml`, in file order.
fn bench_names(ctx: &Ctx) -> Result<Vec<String>, String> {
    let path = ctx.root.join("benches/Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let names = crate::section_names(&text, "[[bench]]");
    if names.is_empty() {
        return Err(format!("no [[bench]] in {}", path.display()));
    }
    Ok(names)
}

/// The crate names under `crates/`: a bench function named after one (or
/// after one plus `-variant`) is ours.
fn our_crates(ctx: &Ctx) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(ctx.root.join("crates"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn is_ours(ours: &[String], function: &str) -> bool {
    ours.iter().any(|c| {
        function == c
            || function
                .strip_prefix(c.as_str())
                .is_some_and(|rest| rest.starts_with('-'))
    })
}

// ----------------------------------------------------------------- running

/// Builds the benches, then runs each with [`CRITERION_ARGS`] and progress;
/// writes the ids measured (and the benches that failed) to `manifest`.
/// `full`: these are all the benches.
fn measure(ctx: &Ctx, benches: &[String], full: bool, manifest: &Path) -> Result<(), String> {
    Cmd::cargo(ctx)
        .args(["bench", "-p", PACKAGE, "--benches", "--no-run"])
        .run()?;
    // Count the rows first (criterion's --list runs nothing), for progress.
    let mut counts = Vec::new();
    for b in benches {
        let out = Command::new(&ctx.cargo)
            .current_dir(&ctx.root)
            .args(["bench", "-q", "-p", PACKAGE, "--bench", b, "--", "--list"])
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        let listed = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.ends_with(": benchmark"))
            .count();
        counts.push(listed);
    }
    let total: usize = counts.iter().sum();
    println!("\n{} rows in {} benches; {SETTINGS}", total, benches.len());
    let start = Instant::now();
    let cpu_before = CpuTimes::now();
    let ids: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut failed = Vec::new();
    for (k, (b, count)) in benches.iter().zip(&counts).enumerate() {
        println!(
            "\n=== bench {}/{}: {b} ({count} rows), {} elapsed",
            k + 1,
            benches.len(),
            secs(start.elapsed())
        );
        let mut child = Command::new(&ctx.cargo)
            .current_dir(&ctx.root)
            .args(["bench", "-q", "-p", PACKAGE, "--bench", b, "--"])
            .args(CRITERION_ARGS)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        // criterion prints "Benchmarking <id>" (and its phases) on stderr:
        // turn the first into a progress line, drop the phases, pass the
        // rest (warnings, panics) through.
        let stderr = child.stderr.take().expect("piped");
        let progress = {
            let ids = Arc::clone(&ids);
            let bench = b.clone();
            let done_before = ids.lock().unwrap().len();
            let count = *count;
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    match line.strip_prefix("Benchmarking ") {
                        Some(id) if !id.contains(": ") => {
                            let mut ids = ids.lock().unwrap();
                            ids.push((bench.clone(), id.to_owned()));
                            let n = ids.len();
                            println!(
                                "[{:>6} | {bench} {}/{count} | all {n}/{total}] {id}",
                                secs(start.elapsed()),
                                n - done_before,
                            );
                        }
                        Some(_) => {}
                        // Rows longer than the short settings allow: criterion
                        // runs them longer by itself; the advice is noise here.
                        None if line.starts_with("Warning: Unable to complete") => {}
                        None if line.is_empty() => {}
                        None => eprintln!("{line}"),
                    }
                }
            })
        };
        // Results and the bench's own ratio tables, as they come.
        let stdout = child.stdout.take().expect("piped");
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("    {line}");
        }
        let _ = progress.join();
        let status = child.wait().map_err(|e| format!("cargo bench: {e}"))?;
        if !status.success() {
            eprintln!("=== bench {b} FAILED ({status}); going on with the others");
            failed.push(b.clone());
        }
    }
    let busy = cpu_before.and_then(|b| CpuTimes::now().map(|a| a.others_share(&b)));
    println!(
        "\n=== all benches ran in {}{}",
        secs(start.elapsed()),
        busy.map_or(String::new(), |s| format!(
            "; other processes used {:.0}% of the CPUs meanwhile",
            s * 100.0
        ))
    );
    let mut tsv = String::new();
    if let Some(s) = busy {
        let _ = writeln!(tsv, "# others-cpu-share\t{s:.3}");
    }
    let _ = writeln!(tsv, "# took-secs\t{:.0}", start.elapsed().as_secs_f64());
    let _ = writeln!(tsv, "# full-run\t{full}");
    for b in &failed {
        let _ = writeln!(tsv, "# failed\t{b}");
    }
    // Each row's mean, copied out of criterion's files now: a later
    // `cargo bench` overwrites them, and `--redraw` must draw this run.
    let mut index = BTreeMap::new();
    collect(&target_dir(ctx).join("criterion"), &mut index);
    for (b, id) in ids.lock().unwrap().iter() {
        if let Some((group, function, param, ns)) = index.get(id) {
            let _ = writeln!(tsv, "{b}\t{group}\t{function}\t{param}\t{ns}");
        }
    }
    std::fs::write(manifest, tsv).map_err(|e| format!("{}: {e}", manifest.display()))
}

/// System-wide busy time and our children's, to tell how much of the
/// machine other processes took during the run (a shared machine makes the
/// numbers noisy).
struct CpuTimes {
    /// Busy jiffies of all CPUs (user, nice, system, irq, softirq, steal).
    busy: u64,
    /// All jiffies of all CPUs.
    all: u64,
    /// Our waited-for children's user + system jiffies.
    children: u64,
}

impl CpuTimes {
    fn now() -> Option<CpuTimes> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|v| v.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal ...
        let all: u64 = cpu.iter().take(8).sum();
        let idle = cpu.get(3)? + cpu.get(4)?;
        let me = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the parenthesised command name; cutime and cstime
        // are fields 16 and 17 of the whole line.
        let rest = &me[me.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let children = f.get(13)?.parse::<u64>().ok()? + f.get(14)?.parse::<u64>().ok()?;
        Some(CpuTimes {
            busy: all - idle,
            all,
            children,
        })
    }

    /// The share of all CPU time since `before` that others used.
    fn others_share(&self, before: &CpuTimes) -> f64 {
        let all = self.all.saturating_sub(before.all).max(1) as f64;
        let busy = self.busy.saturating_sub(before.busy) as f64;
        let ours = self.children.saturating_sub(before.children) as f64;
        ((busy - ours) / all).clamp(0.0, 1.0)
    }
}

/// The machine, toolchain and date, as Markdown lines.
fn machine_lines(ctx: &Ctx) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_owned(), |(_, m)| m.trim().to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .current_dir(&ctx.root)
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "rustc (unknown version)".into());
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "{model}, {cores} cores, {}, {rustc}, {}",
        std::env::consts::OS,
        utc(secs)
    )
}

/// `secs` since the epoch as `YYYY-MM-DD HH:MM UTC` (Howard Hinnant's
/// civil-from-days).
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02} UTC")
}

// ----------------------------------------------------------------- results

/// One measured row.
struct Row {
    bench: String,
    group: String,
    function: String,
    /// Empty for a row with no parameter.
    param: String,
    ns: f64,
}

/// The rows of the last run, in the order they ran.
struct Results {
    rows: Vec<Row>,
    /// Share of the CPUs other processes used during the run, if known.
    others: Option<f64>,
    took_secs: Option<f64>,
    /// Every bench ran.
    full: bool,
    /// Benches that failed (exited non-zero).
    failed: Vec<String>,
}

impl Results {
    /// The rows `measure` wrote to `manifest`.
    fn load(manifest: &Path) -> Result<Results, String> {
        let text = std::fs::read_to_string(manifest).map_err(|_| {
            format!(
                "no run recorded at {}: run `cargo xtask bench` first",
                manifest.display()
            )
        })?;
        let mut rows = Vec::new();
        let (mut others, mut took_secs, mut full, mut failed) = (None, None, false, Vec::new());
        for line in text.lines() {
            let Some((bench, id)) = line.split_once('\t') else {
                continue;
            };
            match bench {
                "# others-cpu-share" => others = id.parse().ok(),
                "# took-secs" => took_secs = id.parse().ok(),
                "# full-run" => full = id == "true",
                "# failed" => failed.push(id.to_owned()),
                _ => {
                    let f: Vec<&str> = id.split('\t').collect();
                    if let [group, function, param, ns] = f[..]
                        && let Ok(ns) = ns.parse()
                    {
                        rows.push(Row {
                            bench: bench.to_owned(),
                            group: group.to_owned(),
                            function: function.to_owned(),
                            param: param.to_owned(),
                            ns,
                        });
                    }
                }
            }
        }
        Ok(Results {
            rows,
            others,
            took_secs,
            full,
            failed,
        })
    }

    fn get(&self, group: &str, function: &str, param: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.group == group && r.function == function && r.param == param)
            .map(|r| r.ns)
    }

    /// `(bench, group)` pairs in run order.
    fn groups(&self) -> Vec<(&str, &str)> {
        let mut v: Vec<(&str, &str)> = Vec::new();
        for r in &self.rows {
            if !v.contains(&(&r.bench, &r.group)) {
                v.push((&r.bench, &r.group));
            }
        }
        v
    }

    fn functions(&self, group: &str) -> Vec<&str> {
        uniq(
            self.rows
                .iter()
                .filter(|r| r.group == group)
                .map(|r| &*r.function),
        )
    }

    fn params(&self, group: &str) -> Vec<&str> {
        uniq(
            self.rows
                .iter()
                .filter(|r| r.group == group)
                .map(|r| &*r.param),
        )
    }
}

fn uniq<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v = Vec::new();
    for s in it {
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v
}

type Entry = (String, String, String, f64);

/// Every `.../new/benchmark.json` under `dir` with its mean, by title.
fn collect(dir: &Path, index: &mut BTreeMap<String, Entry>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if !path.is_dir() {
            continue;
        }
        if e.file_name() == "new" {
            let read = |f: &str| std::fs::read_to_string(path.join(f)).ok();
            if let (Some(b), Some(est)) = (read("benchmark.json"), read("estimates.json"))
                && let (Some(group), Some(title), Some(ns)) =
                    (json_str(&b, "group_id"), json_str(&b, "title"), mean(&est))
            {
                let function = json_str(&b, "function_id").unwrap_or_default();
                let param = json_str(&b, "value_str").unwrap_or_default();
                index.insert(title, (group, function, param, ns));
            }
        } else if e.file_name() != "report" {
            collect(&path, index);
        }
    }
}

/// The mean's point estimate (ns) in criterion's `estimates.json`.
fn mean(json: &str) -> Option<f64> {
    let m = &json[json.find("\"mean\"")?..];
    let pe = &m[m.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    pe[..pe.find([',', '}'])?].trim().parse().ok()
}

// ------------------------------------------------------------------ report

fn time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// The peers `function` (ours) is compared with in `group`.
fn peers_of<'a>(
    results: &'a Results,
    ours: &[String],
    group: &str,
    function: &str,
) -> Vec<&'a str> {
    let all = results.functions(group);
    match PEERS.iter().find(|(f, _)| *f == function) {
        Some((_, listed)) => all.into_iter().filter(|f| listed.contains(f)).collect(),
        None => all.into_iter().filter(|f| !is_ours(ours, f)).collect(),
    }
}

/// A note on how busy the machine was, if it was noticeably.
fn noise_note(others: Option<f64>) -> Option<String> {
    let s = others?;
    (s >= 0.05).then(|| {
        format!(
            "the machine was shared: other processes used {:.0}% of its CPU time during the run, \
             so these numbers are noisier than a quiet machine's",
            s * 100.0
        )
    })
}

/// Writes `report.md` and the charts into `out`; returns the chart files.
fn write_report(
    out: &Path,
    results: &Results,
    ours: &[String],
    machine: &str,
) -> Result<Vec<String>, String> {
    let mut md = String::from("# seqcast benchmarks: ours against each peer\n\n");
    let _ = writeln!(md, "Machine: {}.\n", machine.trim());
    let _ = writeln!(
        md,
        "Measured with `cargo xtask bench`: {SETTINGS}{}, so these numbers are \
         indicative; `cargo bench --bench NAME` measures one bench with its own, longer \
         settings.",
        results.took_secs.map_or(String::new(), |t| format!(
            "; the whole run took {:.1} min",
            t / 60.0
        ))
    );
    if let Some(n) = noise_note(results.others) {
        let _ = writeln!(md, "**Note:** {n}.");
    }
    md.push_str(
        "\nEach time is criterion's mean for one iteration of the row (what an iteration \
         is: the module doc of the bench, linked at each heading). **ratio = ours / peer**: \
         below 1.00 seqcast is faster. `hardware-floor` is not a channel: one cache-padded \
         atomic each way between the same two threads, the round trip no channel can beat.\n",
    );
    if !results.failed.is_empty() {
        let _ = writeln!(
            md,
            "\n**Benches that failed in this run** (rows missing): {}.",
            results.failed.join(", ")
        );
    }
    let below = below_floor(results);
    if !below.is_empty() {
        let _ = writeln!(
            md,
            "\n**Round trips within noise:** {} measured below the hardware floor, which no \
             channel truly beats: on this run the round trips differ by less than the noise \
             (other processes preempting the two threads). Compare them on a quiet machine.",
            below.join(", ")
        );
    }
    if results.rows.is_empty() {
        md.push_str("\nNo rows were measured.\n");
    }
    let mut bench = "";
    for (b, group) in results.groups() {
        if b != bench {
            bench = b;
            let _ = writeln!(md, "\n## {b} ([benches/{b}.rs](../../benches/{b}.rs))");
        }
        let functions = results.functions(group);
        let params = results.params(group);
        let mine: Vec<&str> = functions
            .iter()
            .copied()
            .filter(|f| is_ours(ours, f))
            .collect();
        let mut tables = 0;
        for us in &mine {
            let peers = peers_of(results, ours, group, us);
            if peers.is_empty() {
                continue;
            }
            tables += 1;
            let _ = writeln!(md, "\n**{group}**: {us} against its peers\n");
            let mut head = format!("| {} | {us} |", if params == [""] { "" } else { "param" });
            let mut rule = String::from("|---|--:|");
            for p in &peers {
                let _ = write!(head, " {p} | ratio |");
                rule.push_str("--:|--:|");
            }
            let _ = writeln!(md, "{head}\n{rule}");
            for param in &params {
                let Some(u) = results.get(group, us, param) else {
                    continue;
                };
                let mut line = format!("| {param} | {} |", time(u));
                for p in &peers {
                    match results.get(group, p, param) {
                        Some(t) => {
                            let _ = write!(line, " {} | {:.2} |", time(t), u / t);
                        }
                        None => line.push_str(" – | – |"),
                    }
                }
                let _ = writeln!(md, "{line}");
            }
        }
        if tables == 0 {
            // No ours-versus-peer pair: the times alone.
            let _ = writeln!(md, "\n**{group}**: times\n");
            let mut head = String::from("| param |");
            let mut rule = String::from("|---|");
            for f in &functions {
                let _ = write!(head, " {f} |");
                rule.push_str("--:|");
            }
            let _ = writeln!(md, "{head}\n{rule}");
            for param in &params {
                let mut line = format!("| {param} |");
                for f in &functions {
                    let cell = results.get(group, f, param).map_or("–".into(), time);
                    let _ = write!(line, " {cell} |");
                }
                let _ = writeln!(md, "{line}");
            }
        }
    }
    let footer = format!("{} · cargo xtask bench", machine.trim());
    let mut files = Vec::new();
    for (name, svg) in charts(results, ours, &footer) {
        let Some(svg) = svg else {
            println!("chart {name}: its rows are missing, not drawn");
            continue;
        };
        std::fs::write(out.join(name), svg).map_err(|e| format!("{name}: {e}"))?;
        files.push(name.to_owned());
    }
    if !files.is_empty() {
        md.push_str("\n## Charts\n\n");
        for f in &files {
            let _ = writeln!(md, "![{f}]({f})\n");
        }
    }
    std::fs::write(out.join("report.md"), md).map_err(|e| format!("report.md: {e}"))?;
    Ok(files)
}

/// The functions whose round trip measured below the hardware floor in the
/// same group (a sign the run's noise exceeds their differences).
fn below_floor(r: &Results) -> Vec<String> {
    let mut v = Vec::new();
    for floor in r.rows.iter().filter(|x| x.function == "hardware-floor") {
        for x in &r.rows {
            if x.group == floor.group && x.param == floor.param && x.ns < floor.ns {
                v.push(format!("{}/{}", x.group, x.function));
            }
        }
    }
    v
}

/// One colour per implementation, the same in every chart: ours in blues,
/// the floor in black.
fn color(function: &str, ours: &[String]) -> &'static str {
    match function {
        "hardware-floor" => "#222222",
        "photon-ring" => "#ef6c00",
        "photon-ring-bounded" => "#ffa726",
        "disruptor" => "#2e7d32",
        "bus" => "#8e24aa",
        "crossbeam" => "#795548",
        "tokio" | "tokio-broadcast" => "#c62828",
        "tokio-mpsc" => "#ef9a9a",
        "async-broadcast" => "#00838f",
        "asyncband" => "#9e9d24",
        f if is_ours(ours, f) && f.ends_with("-bounded") => "#64b5f6",
        f if is_ours(ours, f) => "#1565c0",
        _ => "#9e9e9e",
    }
}

/// The charts: `(file name, drawing or None when its rows are missing)`.
fn charts(r: &Results, ours: &[String], footer: &str) -> Vec<(&'static str, Option<String>)> {
    let numeric = |group: &str| -> Vec<(f64, &str)> {
        r.params(group)
            .into_iter()
            .filter_map(|p| p.parse().ok().map(|n| (n, p)))
            .collect()
    };

    // Fan-out: values received per second against the subscriber count.
    let fan = numeric("fanout");
    let series = r
        .functions("fanout")
        .into_iter()
        .map(|f| Series {
            name: f.to_owned(),
            color: color(f, ours),
            points: fan
                .iter()
                .filter_map(|(n, p)| r.get("fanout", f, p).map(|ns| (*n, n * 1e3 / ns)))
                .collect(),
        })
        .collect();
    let fanout = line_chart(&LineChart {
        title: "Fan-out throughput by subscriber count (ring-spmc and peers)".into(),
        subtitle: "one publish, then every subscriber receives it, all on one thread · \
                   higher is better"
            .into(),
        x_axis: "subscribers (log scale)".into(),
        y_axis: "values received per second (millions)".into(),
        series,
        footer: footer.into(),
    });

    // Marginal cost per extra subscriber, from the fewest to the most.
    let marginal = match (fan.first(), fan.last()) {
        (Some((a, pa)), Some((b, pb))) if b > a => {
            let bars = r
                .functions("fanout")
                .into_iter()
                .filter_map(|f| {
                    let per = (r.get("fanout", f, pb)? - r.get("fanout", f, pa)?) / (b - a);
                    Some(Bar {
                        label: f.to_owned(),
                        value: per.max(0.0),
                        color: color(f, ours),
                        note: format!("{per:.2} ns"),
                    })
                })
                .collect();
            bar_chart(&BarChart {
                title: "Fan-out: marginal cost of one more subscriber".into(),
                subtitle: format!(
                    "(time with {pb} subscribers − time with {pa}) / {}, one thread · \
                     lower is better",
                    b - a
                ),
                axis: "nanoseconds per extra subscriber per value".into(),
                log: false,
                reference: None,
                sections: vec![(String::new(), bars)],
                footer: footer.into(),
            })
        }
        _ => None,
    };

    // Cross-thread throughput by consumer count.
    let mut sections = Vec::new();
    for (group, label) in [
        (
            "throughput_1to1",
            "1 producer → 1 consumer (two pinned threads)",
        ),
        (
            "throughput_1to2",
            "1 producer → 2 consumers (consumers yield)",
        ),
    ] {
        let bars = r
            .functions(group)
            .into_iter()
            .filter_map(|f| {
                let ns = r.get(group, f, "u64")?;
                Some(Bar {
                    label: f.to_owned(),
                    value: 1e3 / ns,
                    color: color(f, ours),
                    note: format!("{:.1} M/s ({})", 1e3 / ns, time(ns)),
                })
            })
            .collect();
        sections.push((label.to_owned(), bars));
    }
    let threads = bar_chart(&BarChart {
        title: "Lossless throughput across threads, by consumer count".into(),
        subtitle: "values published per second, every consumer checking it got each in \
                   order · higher is better"
            .into(),
        axis: "values per second (millions)".into(),
        log: false,
        reference: None,
        sections,
        footer: footer.into(),
    });

    // Round trip between two threads against the hardware floor.
    let floor = r.get("pingpong", "hardware-floor", "u64");
    let bars = r
        .functions("pingpong")
        .into_iter()
        .filter_map(|f| {
            let ns = r.get("pingpong", f, "u64")?;
            Some(Bar {
                label: f.to_owned(),
                value: ns,
                color: color(f, ours),
                note: match floor {
                    Some(fl) if f != "hardware-floor" => {
                        format!("{} ({:.2}× the floor)", time(ns), ns / fl)
                    }
                    _ => time(ns),
                },
            })
        })
        .collect();
    let latency = bar_chart(&BarChart {
        title: "Round-trip latency between two pinned threads, against the hardware floor".into(),
        subtitle: if below_floor(r).is_empty() {
            "ping over one channel, pong back over another; the floor is one \
             cache-padded atomic each way · lower is better"
                .into()
        } else {
            "lower is better · rows below the floor: within this run's noise (see the report)"
                .into()
        },
        axis: "nanoseconds per round trip".into(),
        log: false,
        reference: floor.map(|f| (f, "hardware floor".to_owned())),
        sections: vec![(String::new(), bars)],
        footer: footer.into(),
    });

    // broadcast and watch: ours / tokio per row.
    let mut sections = Vec::new();
    for (bench, label) in [
        ("broadcast", "chan-broadcast / tokio::sync::broadcast"),
        ("watch", "chan-watch / tokio::sync::watch"),
    ] {
        let mut bars = Vec::new();
        for (_, group) in r.groups().into_iter().filter(|(b, _)| *b == bench) {
            for us in r.functions(group).into_iter().filter(|f| is_ours(ours, f)) {
                for p in r.params(group) {
                    let (Some(u), Some(t)) = (r.get(group, us, p), r.get(group, "tokio", p)) else {
                        continue;
                    };
                    bars.push(Bar {
                        label: if p.is_empty() {
                            group.to_owned()
                        } else {
                            format!("{group}/{p}")
                        },
                        value: u / t,
                        color: if u < t { "#1565c0" } else { "#c62828" },
                        note: format!("{:.2}× ({} vs {})", u / t, time(u), time(t)),
                    });
                }
            }
        }
        sections.push((label.to_owned(), bars));
    }
    let tokio = bar_chart(&BarChart {
        title: "chan-broadcast and chan-watch against tokio, row by row".into(),
        subtitle: "time ratio ours / tokio; left of 1× (blue) seqcast is faster · lower is better"
            .into(),
        axis: "ours / tokio (log scale)".into(),
        log: true,
        reference: Some((1.0, "tokio".into())),
        sections,
        footer: footer.into(),
    });

    vec![
        ("fanout_throughput.svg", fanout),
        ("fanout_marginal.svg", marginal),
        ("cross_thread_throughput.svg", threads),
        ("roundtrip_latency.svg", latency),
        ("broadcast_watch_vs_tokio.svg", tokio),
    ]
}

// ------------------------------------------------------------------ README

const README_START: &str = "<!-- bench-machine: written by `cargo xtask bench` -->";
const README_END: &str = "<!-- /bench-machine -->";

/// Rewrites the README's machine line (between the markers) after a full
/// run, so the text next to the charts names the run that drew them.
fn update_readme(ctx: &Ctx, machine: &str, others: Option<f64>) -> Result<(), String> {
    let path = ctx.root.join("README.md");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("README.md: {e}"))?;
    let (Some(a), Some(b)) = (text.find(README_START), text.find(README_END)) else {
        println!("README.md has no bench-machine markers: its machine line was not updated");
        return Ok(());
    };
    let mut line = format!("Machine and date: {}.", machine.trim());
    if let Some(n) = noise_note(others) {
        let _ = write!(line, " Indicative only: {n}.");
    }
    let new = format!("{}{README_START}\n{line}\n{}", &text[..a], &text[b..]);
    std::fs::write(&path, new).map_err(|e| format!("README.md: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13 UTC");
    }

    #[test]
    fn json_fields() {
        let b =
            r#"{"group_id":"fanout","function_id":"ring-spmc","value_str":null,"title":"a\"b"}"#;
        assert_eq!(json_str(b, "group_id").as_deref(), Some("fanout"));
        assert_eq!(json_str(b, "value_str"), None);
        assert_eq!(json_str(b, "title").as_deref(), Some("a\"b"));
        let e = r#"{"mean":{"confidence_interval":{"lower_bound":1.0},"point_estimate":12.5,"standard_error":0.1}}"#;
        assert_eq!(mean(e), Some(12.5));
    }

    #[test]
    fn ours_by_crate_name() {
        let ours = vec!["ring-spmc".to_owned(), "chan-watch".to_owned()];
        assert!(is_ours(&ours, "ring-spmc"));
        assert!(is_ours(&ours, "ring-spmc-bounded"));
        assert!(!is_ours(&ours, "ring-spmcx"));
        assert!(!is_ours(&ours, "tokio"));
    }

    /// Lossy rings race lossy peers, lossless ones lossless peers: in the
    /// spmc groups (mixed) through [`PEERS`], in the mpmc groups (one per
    /// kind, from benches/mpmc.rs) through the group alone.
    #[test]
    fn ratios_pair_lossy_with_lossy_and_lossless_with_lossless() {
        let row = |group: &str, function: &str| Row {
            bench: "b".into(),
            group: group.into(),
            function: function.into(),
            param: "8B".into(),
            ns: 1.0,
        };
        let mut rows = Vec::new();
        for f in [
            "ring-spmc",
            "ring-spmc-bounded",
            "photon-ring",
            "photon-ring-bounded",
            "disruptor",
            "bus",
            "crossbeam",
            "hardware-floor",
        ] {
            rows.push(row("roundtrip", f));
        }
        for f in ["ring-mpmc", "photon-ring"] {
            rows.push(row("mpmc_lossy_2p1s", f));
        }
        for f in ["ring-mpmc-bounded", "disruptor", "crossbeam"] {
            rows.push(row("mpmc_lossless_2p1s", f));
        }
        let r = Results {
            rows,
            others: None,
            took_secs: None,
            full: false,
            failed: Vec::new(),
        };
        let ours = ["ring-core", "ring-spmc", "ring-mpmc", "chan-broadcast"].map(String::from);
        assert_eq!(
            peers_of(&r, &ours, "roundtrip", "ring-spmc"),
            ["photon-ring"]
        );
        assert_eq!(
            peers_of(&r, &ours, "roundtrip", "ring-spmc-bounded"),
            [
                "photon-ring-bounded",
                "disruptor",
                "bus",
                "crossbeam",
                "hardware-floor"
            ]
        );
        assert_eq!(
            peers_of(&r, &ours, "mpmc_lossy_2p1s", "ring-mpmc"),
            ["photon-ring"]
        );
        assert_eq!(
            peers_of(&r, &ours, "mpmc_lossless_2p1s", "ring-mpmc-bounded"),
            ["disruptor", "crossbeam"]
        );
    }

    #[test]
    fn missing_results_are_not_a_panic() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // No criterion directory at all (a fresh clone): nothing indexed.
        let mut index = BTreeMap::new();
        collect(&dir.join("no-criterion"), &mut index);
        assert!(index.is_empty());
        let manifest = dir.join("run.tsv");
        std::fs::write(&manifest, "# full-run\ttrue\nspmc\tfanout\tbad-row\n").unwrap();
        let r = Results::load(&manifest).unwrap();
        assert!(r.rows.is_empty() && r.full);
        let files = write_report(&dir, &r, &[], "test machine").unwrap();
        assert!(files.is_empty());
        assert!(
            std::fs::read_to_string(dir.join("report.md"))
                .unwrap()
                .contains("No rows")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
