//! `cargo xtask`: the maintainers' gate.
//!
//! `cargo xtask ci` runs every step below in order, printing each step's
//! name, the commands it ran and how long it took, and stops at the first
//! failure. Each step is also a subcommand of its own (`cargo xtask miri`).
//! A missing tool is reported with the command that installs it; `.ci/run`
//! installs all of them on a fresh machine.
//!
//! `cargo xtask bench` (outside `ci`) runs every peer comparison in a quick
//! mode and writes the report and charts (see [`bench`]); in `ci` the bench
//! step only checks that every bench builds and runs once.
//!
//! Kept dependency-free (as rust-analyzer's xtask): it builds in a second.
//! The report's SVG charts are written by hand in [`svg`] for that reason.

use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

mod bench;
mod svg;

/// The README's test command, which the `test` step runs verbatim.
const TEST_COMMAND: &[&str] = &["test", "--workspace", "--release"];
/// The README's demo command, run too: it asserts what it prints. The other
/// examples of `examples/Cargo.toml` run after it, the same way.
const DEMO_COMMAND: &[&str] = &["run", "--release", "--example", "quickstart"];

/// Packages that hold library code (what loom, Miri and the cross targets check).
/// Dependency order (what `cargo xtask package` packages, in this order).
///
/// `bridge-nats` is deliberately absent: it is not published yet, needs
/// Rust 1.89 (async-nats), has no `unsafe` and no synchronisation of its
/// own for Miri or loom, and its tests need a `nats-server` (and ring's C
/// build) that the cross targets would not be worth
/// (`crates/bridge-nats/tests/README.md`). `lint`, `test`, `deny` and
/// `bench` cover it through `--workspace`.
const LIB_PACKAGES: &[&str] = &[
    "seqcast-core",
    "ring-spmc",
    "ring-mpmc",
    "chan-broadcast",
    "chan-watch",
    "stream-bytes",
];

/// The facade: packaged and checked on the MSRV with the layers, but it has
/// no code of its own for loom, Miri or the cross targets to run.
const FACADE: &str = "seqcast";

/// The directory under `crates/` of a library package: ring-core's package
/// is published as `seqcast-core` (the name `ring-core` is taken on
/// crates.io), its directory and library keep the name.
fn crate_dir(package: &str) -> &str {
    match package {
        "seqcast-core" => "ring-core",
        p => p,
    }
}

const AARCH64: &str = "aarch64-unknown-linux-gnu";
const I686: &str = "i686-unknown-linux-gnu";
/// A hosted-free x86-64 target with the vector registers off (soft float):
/// ring-core's `no_std` build must not use `xmm` registers there.
const X86_64_NONE: &str = "x86_64-unknown-none";
const BIG_ENDIAN: &str = "s390x-unknown-linux-gnu";
/// The i686 cross toolchain's dynamic loader (package libc6-i386-cross).
const I686_LOADER: &str = "/usr/i686-linux-gnu/lib/ld-linux.so.2";

struct Step {
    name: &'static str,
    about: &'static str,
    run: fn(&Ctx) -> Result<(), String>,
}

const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        about: "cargo fmt --check",
        run: fmt,
    },
    Step {
        name: "lint",
        about: "clippy -D warnings (std, no_std, --cfg ring_loom), rustdoc -D warnings",
        run: lint,
    },
    Step {
        name: "msrv",
        about: "the library crates build on their rust-version (the bench crate's peers need newer)",
        run: msrv,
    },
    Step {
        name: "test",
        about: "the README's test command (unit, integration, stress and doc tests), then every example",
        run: test,
    },
    Step {
        name: "loom",
        about: "every tests/loom_*.rs under --cfg ring_loom, release, own target dir, one model per process and per core",
        run: loom,
    },
    Step {
        name: "miri",
        about: "tests under Miri with strict provenance, native and (the rings) big-endian s390x, stress across 32 seeds",
        run: miri,
    },
    Step {
        name: "cross",
        about: "tests run on aarch64 under qemu-user and on i686 (32-bit); ring-core checked on x86_64-unknown-none (soft float)",
        run: cross,
    },
    Step {
        name: "deny",
        about: "cargo deny: licenses, bans, sources (advisories need the RustSec database)",
        run: deny,
    },
    Step {
        name: "package",
        about: "cargo package of every library crate in dependency order, each built from its package",
        run: package,
    },
    Step {
        name: "bench",
        about: "every bench compiles and runs each row once (`bench --check`; plain `bench` measures)",
        run: bench::check,
    },
];

struct Ctx {
    root: PathBuf,
    cargo: OsString,
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let Some(cmd) = args.first().map(String::as_str) else {
        usage();
        return ExitCode::FAILURE;
    };
    let ctx = Ctx {
        // xtask/ sits at the workspace root.
        root: Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives inside the workspace")
            .to_path_buf(),
        cargo: env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
    };
    let steps: Vec<&Step> = match cmd {
        "ci" => STEPS.iter().collect(),
        "help" | "--help" | "-h" => {
            usage();
            return ExitCode::SUCCESS;
        }
        "bench" if !args.iter().any(|a| a == "--check") => {
            if args.iter().any(|a| a == "--help" || a == "-h") {
                eprint!("{}", bench::USAGE);
                return ExitCode::SUCCESS;
            }
            let start = Instant::now();
            return match bench::run(&ctx, &args[1..]) {
                Ok(()) => {
                    println!("=== xtask bench: ok in {}", secs(start.elapsed()));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!(
                        "=== xtask bench: FAILED after {}\n{e}",
                        secs(start.elapsed())
                    );
                    ExitCode::FAILURE
                }
            };
        }
        name => match STEPS.iter().find(|s| s.name == name) {
            Some(step) => vec![step],
            None => {
                eprintln!("xtask: unknown command `{name}`\n");
                usage();
                return ExitCode::FAILURE;
            }
        },
    };
    let mut times = Vec::new();
    let all = Instant::now();
    for step in steps {
        println!("\n=== xtask {}: {}", step.name, step.about);
        let start = Instant::now();
        let result = (step.run)(&ctx);
        let took = start.elapsed();
        times.push((step.name, took, result.is_ok()));
        match result {
            Ok(()) => println!("=== xtask {}: ok in {}", step.name, secs(took)),
            Err(e) => {
                eprintln!("=== xtask {}: FAILED after {}\n{e}", step.name, secs(took));
                summary(&times, all.elapsed());
                return ExitCode::FAILURE;
            }
        }
    }
    summary(&times, all.elapsed());
    ExitCode::SUCCESS
}

fn usage() {
    let mut s = String::from(
        "usage: cargo xtask <command>\n\ncommands:\n  ci      run every step below, in order, stopping at the first failure\n",
    );
    for step in STEPS {
        let _ = writeln!(s, "  {:<7} {}", step.name, step.about);
    }
    s.push_str("\nand, outside ci:\n");
    s.push_str(bench::USAGE);
    eprint!("{s}");
}

fn summary(times: &[(&str, Duration, bool)], total: Duration) {
    println!("\nstep     time     result");
    for (name, took, ok) in times {
        println!(
            "{name:<8} {:>7}  {}",
            secs(*took),
            if *ok { "ok" } else { "FAILED" }
        );
    }
    println!("total    {:>7}", secs(total));
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// A command about to run, printed before it runs.
struct Cmd {
    inner: Command,
    shown: String,
}

impl Cmd {
    fn new(program: impl Into<OsString>, ctx: &Ctx) -> Cmd {
        let program = program.into();
        let mut inner = Command::new(&program);
        inner.current_dir(&ctx.root);
        let name = Path::new(&program)
            .file_name()
            .map_or_else(|| program.to_string_lossy(), |n| n.to_string_lossy())
            .into_owned();
        Cmd { inner, shown: name }
    }

    fn cargo(ctx: &Ctx) -> Cmd {
        Cmd::new(ctx.cargo.clone(), ctx)
    }

    /// `cargo` of the nightly toolchain, through rustup.
    fn nightly_cargo(ctx: &Ctx) -> Cmd {
        let mut c = Cmd::new("rustup", ctx);
        c.args(["run", "nightly", "cargo"]);
        c
    }

    fn args<I, S>(&mut self, args: I) -> &mut Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for a in args {
            let a = a.as_ref();
            self.shown.push(' ');
            if a.contains(' ') || a.contains('*') {
                let _ = write!(self.shown, "'{a}'");
            } else {
                self.shown.push_str(a);
            }
            self.inner.arg(a);
        }
        self
    }

    fn env(&mut self, key: &str, value: &str) -> &mut Cmd {
        self.shown = format!("{key}=\"{value}\" {}", self.shown);
        self.inner.env(key, value);
        self
    }

    fn run(&mut self) -> Result<(), String> {
        let status = self.timed(Command::status);
        self.outcome(status)
    }

    /// Runs `f` on the command, printed before and timed after.
    fn timed<R>(&mut self, f: impl FnOnce(&mut Command) -> R) -> R {
        println!("$ {}", self.shown);
        let start = Instant::now();
        let result = f(&mut self.inner);
        println!("  ({})", secs(start.elapsed()));
        result
    }

    /// What a run of this command came to: `Ok` if it started and exited
    /// 0, else an error that names it.
    fn outcome(&self, status: std::io::Result<std::process::ExitStatus>) -> Result<(), String> {
        match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(format!("`{}` failed ({s})", self.shown)),
            Err(e) => Err(format!("could not start `{}`: {e}", self.shown)),
        }
    }

    /// Runs with its output (stdout and stderr, interleaved as written)
    /// appended to `log`, the command line and its time too; `lane` names
    /// it in the one-line progress notes printed to the console.
    fn run_logged(&mut self, log: &std::fs::File, lane: &str) -> Result<(), String> {
        use std::io::Write as _;
        let io = |e: std::io::Error| format!("{lane}: writing its log: {e}");
        println!("[{lane}] $ {}", self.shown);
        writeln!(&*log, "$ {}", self.shown).map_err(io)?;
        let start = Instant::now();
        let status = self
            .inner
            .stdout(log.try_clone().map_err(io)?)
            .stderr(log.try_clone().map_err(io)?)
            .status();
        let took = secs(start.elapsed());
        writeln!(&*log, "  ({took})").map_err(io)?;
        println!("[{lane}]   ({took}) {}", self.shown);
        self.outcome(status)
    }

    /// Runs from `dir` instead of the workspace root.
    fn dir(&mut self, dir: &Path) -> &mut Cmd {
        self.inner.current_dir(dir);
        self
    }

    /// Runs with stdout captured (stderr shown) and returns it if the
    /// command exits 0.
    fn stdout_text(&mut self) -> Result<String, String> {
        let output = self.timed(|c| c.stderr(std::process::Stdio::inherit()).output());
        let text = output
            .as_ref()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        self.outcome(output.map(|o| o.status))?;
        Ok(text)
    }

    /// Runs quietly; true if it exits 0. For tool probes.
    fn probe(&mut self) -> bool {
        self.inner
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

/// Runs `jobs` on `lanes` lanes side by side, one thread each, for a step
/// whose commands each keep one core busy: Miri interprets a test binary on
/// one thread, and a loom model runs on one thread (its threads are
/// coroutines). Jobs start in the order given, each on the first lane to
/// come free, so the longest should come first. After a job fails no new
/// job starts (those running finish). Jobs that share a target directory
/// wait for each other (cargo locks a build directory while it works in
/// it), so jobs meant to overlap each get their own. Each lane's output
/// goes to its own log, `target/xtask/<step>-lane<N>.log`, printed whole
/// once every lane has ended, so the lanes' outputs never interleave; the
/// console gets a line as each job starts and ends. Fails if any job
/// failed, with every failed job's error.
fn run_lanes(ctx: &Ctx, step: &str, lanes: usize, jobs: Vec<Cmd>) -> Result<(), String> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = ctx.root.join("target/xtask");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let queue = Mutex::new(jobs.into_iter());
    let failed_once = AtomicBool::new(false);
    let ended: Vec<(String, PathBuf, Vec<String>)> = std::thread::scope(|s| {
        let running: Vec<_> = (1..=lanes.max(1))
            .map(|i| {
                let name = format!("{step} lane {i}");
                let log = dir.join(format!("{step}-lane{i}.log"));
                let (queue, failed_once) = (&queue, &failed_once);
                s.spawn(move || {
                    let mut errors = Vec::new();
                    let file = match std::fs::File::create(&log) {
                        Ok(file) => file,
                        Err(e) => {
                            failed_once.store(true, Ordering::Relaxed);
                            errors.push(format!("creating {}: {e}", log.display()));
                            return (name, log, errors);
                        }
                    };
                    // Relaxed: the flag only stops new jobs early; the
                    // errors themselves come back through `join`.
                    while !failed_once.load(Ordering::Relaxed) {
                        let next = queue.lock().expect("no lane panics holding it").next();
                        let Some(mut cmd) = next else { break };
                        if let Err(e) = cmd.run_logged(&file, &name) {
                            failed_once.store(true, Ordering::Relaxed);
                            errors.push(e);
                        }
                    }
                    (name, log, errors)
                })
            })
            .collect();
        running
            .into_iter()
            .map(|lane| lane.join().expect("a lane's thread panicked"))
            .collect()
    });
    let mut failed = Vec::new();
    for (name, log, errors) in ended {
        println!("\n--- {name}: {}", log.display());
        print!("{}", std::fs::read_to_string(&log).unwrap_or_default());
        failed.extend(errors.into_iter().map(|e| format!("{name}: {e}")));
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("\n"))
    }
}

/// `head` followed by `-p <package>` for every one of `packages`.
fn package_args(head: &[&str], packages: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = head.iter().map(|a| (*a).to_owned()).collect();
    for p in packages {
        args.push("-p".into());
        args.push((*p).into());
    }
    args
}

/// `head` followed by `-p <package>` for every library package.
fn lib_args(head: &[&str]) -> Vec<String> {
    package_args(head, LIB_PACKAGES)
}

/// [`lib_args`] with the facade too: what is published and checked on
/// the MSRV.
fn published_args(head: &[&str]) -> Vec<String> {
    let mut args = lib_args(head);
    args.extend(["-p".into(), FACADE.into()]);
    args
}

fn fmt(ctx: &Ctx) -> Result<(), String> {
    need(
        Cmd::cargo(ctx).args(["fmt", "--version"]).probe(),
        "rustfmt is missing: run `rustup component add rustfmt`",
    )?;
    Cmd::cargo(ctx).args(["fmt", "--all", "--check"]).run()
}

fn lint(ctx: &Ctx) -> Result<(), String> {
    need(
        Cmd::cargo(ctx).args(["clippy", "--version"]).probe(),
        "clippy is missing: run `rustup component add clippy`",
    )?;
    Cmd::cargo(ctx)
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .run()?;
    // ring-core without `std`: the `no_std` + `alloc` build must stay clean.
    Cmd::cargo(ctx)
        .args([
            "clippy",
            "-p",
            "seqcast-core",
            "--no-default-features",
            "--",
            "-D",
            "warnings",
        ])
        .run()?;
    // Under loom, so that an atomic imported around the shim (std's instead
    // of `ring_core::sync`'s) is a type error here rather than a silent hole
    // in the model.
    let mut args = lib_args(&["clippy", "--all-targets", "--target-dir", "target/loom"]);
    args.extend(["--", "-D", "warnings"].map(String::from));
    Cmd::cargo(ctx)
        .env("RUSTFLAGS", "--cfg ring_loom")
        .args(&args)
        .run()?;
    Cmd::cargo(ctx)
        .env("RUSTDOCFLAGS", "-D warnings")
        .args(["doc", "--workspace", "--no-deps", "--exclude", "xtask"])
        .run()
}

/// The workspace's `rust-version`, read from the root manifest.
fn msrv_version(ctx: &Ctx) -> Result<String, String> {
    let manifest = std::fs::read_to_string(ctx.root.join("Cargo.toml"))
        .map_err(|e| format!("reading Cargo.toml: {e}"))?;
    manifest
        .lines()
        .find_map(|l| {
            let v = l
                .trim()
                .strip_prefix("rust-version")?
                .trim()
                .strip_prefix('=')?;
            Some(v.trim().trim_matches('"').to_owned())
        })
        .ok_or_else(|| "no rust-version in the root Cargo.toml".to_owned())
}

fn msrv(ctx: &Ctx) -> Result<(), String> {
    let version = msrv_version(ctx)?;
    let on_msrv = |ctx: &Ctx| {
        let mut c = Cmd::new("rustup", ctx);
        c.args(["run", version.as_str(), "cargo"]);
        c
    };
    need(
        on_msrv(ctx).args(["--version"]).probe(),
        &format!(
            "Rust {version} is missing: run `rustup toolchain install {version} --profile minimal`"
        ),
    )?;
    let mut args = published_args(&["check", "--all-features"]);
    args.extend(["--target-dir".into(), "target/msrv".into()]);
    on_msrv(ctx).args(&args).run()
}

fn package(ctx: &Ctx) -> Result<(), String> {
    // One invocation, so each crate is verified against its dependencies'
    // packages (cargo puts them in a local registry) rather than their
    // paths. `--allow-dirty` lets maintainers run it on a work tree; CI
    // runs it on a clean clone.
    //
    // Cargo treats a registry package as immutable, so a second run after a
    // change would verify against what the first one built or unpacked for
    // the same version (a crate calling a method its dependency gained since
    // then fails to build). Verify in a target dir of its own, emptied
    // first, and drop what earlier runs unpacked from the local registry.
    let verify = ctx.root.join("target/package-verify");
    remove_if_present(&verify)?;
    forget_unpacked_packages()?;
    let mut args = published_args(&["package", "--allow-dirty"]);
    args.extend(["--target-dir".into(), verify.to_string_lossy().into_owned()]);
    Cmd::cargo(ctx).args(&args).run()
}

/// Removes `dir` and everything in it, if it exists.
fn remove_if_present(dir: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("removing {}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// Removes our packages' sources that `cargo package` unpacked from its
/// local registries (`$CARGO_HOME/registry/src/-<hash>/<name>-<version>`:
/// a local registry's directory name starts with `-`). Crates from
/// crates.io are left alone.
fn forget_unpacked_packages() -> Result<(), String> {
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry").join("src")) else {
        return Ok(());
    };
    let Ok(registries) = std::fs::read_dir(&src) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for package in LIB_PACKAGES.iter().chain([&FACADE]) {
            let prefix = format!("{package}-");
            for unpacked in std::fs::read_dir(registry.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if unpacked.file_name().to_string_lossy().starts_with(&prefix) {
                    remove_if_present(&unpacked.path())?;
                }
            }
        }
    }
    Ok(())
}

fn test(ctx: &Ctx) -> Result<(), String> {
    Cmd::cargo(ctx).args(TEST_COMMAND).run()?;
    Cmd::cargo(ctx).args(DEMO_COMMAND).run()?;
    // Every other example asserts what it prints too: run each, so none
    // rots unseen (a few seconds in all).
    let manifest = ctx.root.join("examples/Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let demo = DEMO_COMMAND.last().copied().unwrap_or_default();
    for name in section_names(&text, "[[example]]") {
        if name != demo {
            Cmd::cargo(ctx)
                .args(["run", "--release", "--example", name.as_str()])
                .run()?;
        }
    }
    Ok(())
}

/// The `name = "..."` of every `section` table (`[[example]]`, `[[bench]]`)
/// of a manifest, in file order.
fn section_names(manifest: &str, section: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == section;
        } else if inside
            && let Some(v) = line.strip_prefix("name")
            && let Some(v) = v.trim_start().strip_prefix('=')
        {
            names.push(v.trim().trim_matches('"').to_owned());
        }
    }
    names
}

fn loom(ctx: &Ctx) -> Result<(), String> {
    let models = loom_models(ctx);
    if models.is_empty() {
        return Err("no tests/loom_*.rs found: the loom step would check nothing".into());
    }
    let mut args = lib_args(&[
        "test",
        "--release",
        "--target-dir",
        "target/loom",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    for m in &models {
        args.push("--test".into());
        args.push(m.clone());
    }
    let built = Cmd::cargo(ctx)
        .env("RUSTFLAGS", "--cfg ring_loom")
        .args(&args)
        .stdout_text()?;
    // Then every model in a process of its own, on as many lanes as there
    // are cores (`run_lanes`). A loom model runs on one thread, and two
    // models in one process slow each other down: on the 2-core VM,
    // loom_spmc took 384 s under the test harness's two threads, against
    // 191 s for its longest model and 107 s for the rest in two processes
    // side by side (most of loom's time there is the kernel mapping and
    // unmapping coroutine stacks, under one lock per process, with
    // TLB-shootdown interrupts to the other core).
    let mut jobs: Vec<(String, String, Cmd)> = Vec::new();
    for (exe, dir) in test_executables(&built) {
        let model = Path::new(&exe)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some((model, _hash)) = model.rsplit_once('-') else {
            continue;
        };
        if !model.starts_with("loom_") {
            continue;
        }
        let mut list = Cmd::new(&exe, ctx);
        list.dir(&dir).args(["--list", "--format", "terse"]);
        for test in list.stdout_text()?.lines() {
            let Some(test) = test.strip_suffix(": test") else {
                continue;
            };
            let mut cmd = Cmd::new(&exe, ctx);
            // No LOOM_MAX_PREEMPTIONS here: each model sets the bound it
            // finishes under (a few need 2; forcing 3 on them overflows
            // loom's branch limit). A user's own LOOM_MAX_PREEMPTIONS still
            // overrides every model.
            cmd.dir(&dir).args([test, "--exact", "--test-threads=1"]);
            jobs.push((model.to_owned(), test.to_owned(), cmd));
        }
    }
    if jobs.is_empty() {
        return Err(format!(
            "no loom test found in the executables of {models:?}: the loom step would check nothing"
        ));
    }
    // The longest models first, so that no lane is left running one alone
    // at the end.
    let mut ordered = Vec::new();
    for (model, test) in LOOM_LONGEST {
        let at = jobs
            .iter()
            .position(|(m, t, _)| m == model && t == test)
            .ok_or_else(|| {
                format!("LOOM_LONGEST names {model}::{test}, which no longer exists: update it")
            })?;
        ordered.push(jobs.remove(at).2);
    }
    ordered.extend(jobs.into_iter().map(|(_, _, cmd)| cmd));
    let lanes = std::thread::available_parallelism().map_or(1, usize::from);
    run_lanes(ctx, "loom", lanes, ordered)
}

/// The loom models that take longest, longest first (on the 2-core VM, in a
/// process each: 191 s and 77 s; the other 93 take about 70 s in all).
const LOOM_LONGEST: &[(&str, &str)] = &[
    (
        "loom_spmc",
        "subscribe_racing_publish_batch_with_a_gating_reader_ahead",
    ),
    (
        "loom_spmc",
        "subscribe_from_oldest_racing_publish_on_a_bounded_ring",
    ),
];

/// Every test executable in cargo's `--message-format=json` output, with
/// its package's directory (where `cargo test` runs it).
fn test_executables(json: &str) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for line in json.lines() {
        if !line.contains(r#""reason":"compiler-artifact""#) {
            continue;
        }
        let (Some(exe), Some(manifest)) = (
            json_str(line, "executable"),
            json_str(line, "manifest_path"),
        ) else {
            continue;
        };
        let dir = Path::new(&manifest)
            .parent()
            .map_or_else(PathBuf::new, Path::to_path_buf);
        found.push((exe, dir));
    }
    found
}

/// The string value of the first `"key": "..."` in a piece of JSON, with
/// its escapes undone; `None` if absent or not a string (`null`). Enough
/// for the flat objects that cargo and criterion write, without a parser.
fn json_str(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = json[at..].trim_start().strip_prefix(':')?.trim_start();
    let mut chars = rest.strip_prefix('"')?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// The names of every `crates/*/tests/loom_*.rs`.
fn loom_models(ctx: &Ctx) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(crates) = std::fs::read_dir(ctx.root.join("crates")) else {
        return found;
    };
    for krate in crates.flatten() {
        let Ok(tests) = std::fs::read_dir(krate.path().join("tests")) else {
            continue;
        };
        for t in tests.flatten() {
            let name = t.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".rs")
                && stem.starts_with("loom_")
            {
                found.push(stem.to_owned());
            }
        }
    }
    found.sort();
    found
}

fn miri(ctx: &Ctx) -> Result<(), String> {
    need(
        Cmd::nightly_cargo(ctx).args(["miri", "--version"]).probe(),
        "Miri is missing: run `rustup toolchain install nightly && rustup component add --toolchain nightly miri rust-src`",
    )?;
    // The sysroots first, one at a time: the lanes below would otherwise
    // each start building the host's at once (a no-op once built).
    for target in [None, Some(BIG_ENDIAN)] {
        let mut args = vec!["miri".to_owned(), "setup".to_owned()];
        if let Some(t) = target {
            args.extend(["--target".into(), t.into()]);
        }
        Cmd::nightly_cargo(ctx).args(&args).run()?;
    }
    // Then every run as a job on two lanes side by side (`run_lanes`: Miri
    // interprets a test binary on one thread, so one run keeps one core
    // busy), each with its own target dir, longest first:
    //
    // 1. Miri's default slot copy (under a per-slot lock, correct for
    //    every payload) over every library crate, native;
    // 2. the same for the rings (`WORD_PACKAGES`), big-endian;
    // 3. ring-core's tests with `--cfg ring_miri_words`, the lock-free
    //    atomic copy instead, so that Miri checks its orderings (padded
    //    payloads are ignored there);
    // 4. weak-memory effects show only on some seeds (an all-Relaxed
    //    seqlock tore at seed 57 of 64 on these machines): the real-thread
    //    stress tests rerun across seeds, on the lock-free copy (deleting
    //    the slot's acquire fence fails this). 32 seeds for the seqlock
    //    rings, whose correctness rests on fences and orderings alone; 4
    //    for the async crates, whose payloads move under locks: seeds 1 to
    //    3 here, since run 1 ran their stress tests on seed 0 (Miri's
    //    default), and `ring_miri_words` changes only the rings' slot
    //    copy, which they do not use, so seed 0 would rerun the very same
    //    execution. Miri runs a many-seeds run's
    //    seeds on parallel threads, so these use both cores, sharing them
    //    with run 1 once the other lane comes free.
    //
    // Doc tests are left out to bound the run: every unsafe path is
    // reached from the lib and integration tests.
    let words_dir = ctx.root.join("target/miri-words");
    let words_dir = words_dir.to_string_lossy().into_owned();
    let be_dir = ctx.root.join("target/miri-be");
    let be_dir = be_dir.to_string_lossy().into_owned();
    let mut jobs = Vec::new();
    let mut native = Cmd::nightly_cargo(ctx);
    native
        .env("MIRIFLAGS", "-Zmiri-strict-provenance")
        .args(lib_args(&["miri", "test", "--lib", "--tests"]));
    jobs.push(native);
    let mut args = package_args(&["miri", "test", "--lib", "--tests"], WORD_PACKAGES);
    args.extend([
        "--target".into(),
        BIG_ENDIAN.into(),
        "--target-dir".into(),
        be_dir,
    ]);
    let mut big_endian = Cmd::nightly_cargo(ctx);
    big_endian
        .env("MIRIFLAGS", "-Zmiri-strict-provenance")
        .args(&args);
    jobs.push(big_endian);
    let mut words = Cmd::nightly_cargo(ctx);
    words
        .env("MIRIFLAGS", "-Zmiri-strict-provenance")
        .env("RUSTFLAGS", "--cfg ring_miri_words")
        .args([
            "miri",
            "test",
            "--lib",
            "--tests",
            "-p",
            "seqcast-core",
            "--target-dir",
            &words_dir,
        ]);
    jobs.push(words);
    let others: Vec<&str> = LIB_PACKAGES
        .iter()
        .copied()
        .filter(|p| !SEQLOCK_PACKAGES.contains(p))
        .collect();
    for (packages, seeds) in [(SEQLOCK_PACKAGES, "0..32"), (&others[..], "1..4")] {
        let mut args = package_args(&["miri", "test"], packages);
        for t in ["stress_slot", "stress"] {
            if packages.iter().any(|p| has_test(ctx, p, t)) {
                args.extend(["--test".into(), t.into()]);
            }
        }
        args.extend(["--target-dir".into(), words_dir.clone()]);
        let mut cmd = Cmd::nightly_cargo(ctx);
        cmd.env(
            "MIRIFLAGS",
            &format!("-Zmiri-strict-provenance -Zmiri-many-seeds={seeds}"),
        )
        .env("RUSTFLAGS", "--cfg ring_miri_words")
        .args(&args);
        jobs.push(cmd);
    }
    run_lanes(ctx, "miri", 2, jobs)
}

/// The seqlock rings (their stress tests rerun over many Miri seeds).
const SEQLOCK_PACKAGES: &[&str] = &["seqcast-core", "ring-spmc"];

/// The crates whose payloads move as machine words (ring-core's slot copy,
/// and the two rings built on it): the big-endian Miri run checks these.
/// The async crates keep each value in place in its slot (no byte of it
/// reinterpreted, no word copy), so byte order cannot change what their
/// `unsafe` does; they run under Miri natively.
const WORD_PACKAGES: &[&str] = &["seqcast-core", "ring-spmc", "ring-mpmc"];

/// Whether `crates/<package>/tests/<test>.rs` exists.
fn has_test(ctx: &Ctx, package: &str, test: &str) -> bool {
    ctx.root
        .join("crates")
        .join(crate_dir(package))
        .join("tests")
        .join(format!("{test}.rs"))
        .exists()
}

fn cross(ctx: &Ctx) -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for t in [AARCH64, I686, X86_64_NONE] {
        need(
            installed.lines().any(|l| l.trim() == t),
            &format!("the {t} target is missing: run `rustup target add {t}`"),
        )?;
    }
    need(
        on_path("qemu-aarch64"),
        "qemu-user is missing: run `apt-get install -y --no-install-recommends qemu-user`",
    )?;
    need(
        on_path("aarch64-linux-gnu-gcc"),
        "the aarch64 linker is missing: run `apt-get install -y --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross`",
    )?;
    need(
        on_path("i686-linux-gnu-gcc") && Path::new(I686_LOADER).exists(),
        "the i686 toolchain is missing: run `apt-get install -y --no-install-recommends gcc-i686-linux-gnu libc6-dev-i386-cross` (never gcc-multilib)",
    )?;
    // Build only (nothing runs there): ring-core's x86-64 16-byte payload
    // copy uses `xmm` registers, which this target disables; it must fall
    // back to the word copy rather than fail to build (it did, `payload.rs`).
    Cmd::cargo(ctx)
        .args([
            "check",
            "-p",
            "seqcast-core",
            "--no-default-features",
            "--target",
            X86_64_NONE,
            "--target-dir",
            "target/cross",
        ])
        .run()?;
    let args = lib_args(&["test", "--target", AARCH64, "--target-dir", "target/cross"]);
    Cmd::cargo(ctx)
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER",
            "aarch64-linux-gnu-gcc",
        )
        .env(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER",
            "qemu-aarch64 -L /usr/aarch64-linux-gnu",
        )
        .args(&args)
        .run()?;
    // i686 binaries run natively on x86-64 (never under qemu-i386, which
    // hangs on threads), through the cross toolchain's own loader and libc:
    // the host's libc6-i386 may be a different glibc build than the one the
    // binaries were linked against, and mixing them hangs in pthread_create.
    let args = lib_args(&["test", "--target", I686, "--target-dir", "target/cross"]);
    Cmd::cargo(ctx)
        .env(
            "CARGO_TARGET_I686_UNKNOWN_LINUX_GNU_LINKER",
            "i686-linux-gnu-gcc",
        )
        .env(
            "CARGO_TARGET_I686_UNKNOWN_LINUX_GNU_RUNNER",
            &format!("{I686_LOADER} --library-path /usr/i686-linux-gnu/lib"),
        )
        .args(&args)
        .run()
}

fn deny(ctx: &Ctx) -> Result<(), String> {
    need(
        Cmd::cargo(ctx).args(["deny", "--version"]).probe(),
        "cargo-deny is missing: run `cargo install cargo-deny --locked`",
    )?;
    Cmd::cargo(ctx)
        .args(["deny", "check", "licenses", "bans", "sources"])
        .run()?;
    if env::var_os("SEQCAST_DENY_ADVISORIES").is_some() {
        Cmd::cargo(ctx).args(["deny", "check", "advisories"]).run()
    } else {
        println!(
            "NOTE: advisories were NOT checked: they need the RustSec advisory database, \
             fetched from GitHub, which this machine cannot reach. Where it can, run \
             `SEQCAST_DENY_ADVISORIES=1 cargo xtask deny`."
        );
        Ok(())
    }
}

fn need(ok: bool, fix: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(fix.to_owned()) }
}

fn on_path(program: &str) -> bool {
    env::var_os("PATH")
        .is_some_and(|paths| env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_names_read_only_that_section() {
        let m = "[package]\nname = \"p\"\n\n[[example]]\nname = \"a\"\npath = \"a.rs\"\n\n[lints]\n\n[[example]]\nname=\"b\"\n";
        assert_eq!(section_names(m, "[[example]]"), ["a", "b"]);
        assert!(section_names(m, "[[bench]]").is_empty());
    }

    /// `sh -c script`, from `ctx.root`.
    fn sh(ctx: &Ctx, script: &str) -> Cmd {
        let mut c = Cmd::new("sh", ctx);
        c.args(["-c", script]);
        c
    }

    /// A fresh directory under the system's temporary one, as a `Ctx`.
    fn scratch(name: &str) -> Ctx {
        let root = env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Ctx {
            root,
            cargo: "cargo".into(),
        }
    }

    /// The log of lane `n` of step `t`.
    fn lane_log(ctx: &Ctx, n: u32) -> String {
        std::fs::read_to_string(ctx.root.join(format!("target/xtask/t-lane{n}.log"))).unwrap()
    }

    /// Waits (at most 20 s) for file `f` to exist; fails if it never does.
    fn wait_for(f: &str) -> String {
        format!(
            "i=0; while [ ! -e {f} ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; [ -e {f} ]"
        )
    }

    #[test]
    fn lanes_run_jobs_side_by_side_in_order_each_lane_into_its_own_log() {
        let ctx = scratch("lanes");
        // The first two jobs each wait for a file that the other writes
        // only once it has started: one after the other, they cannot
        // finish. The third starts on whichever lane comes free first.
        let jobs = vec![
            sh(&ctx, &format!("touch a && {} && echo job-a", wait_for("b"))),
            sh(
                &ctx,
                &format!("touch b && {} && echo job-b >&2", wait_for("a")),
            ),
            sh(&ctx, "echo job-c"),
        ];
        run_lanes(&ctx, "t", 2, jobs).unwrap();
        let (one, two) = (lane_log(&ctx, 1), lane_log(&ctx, 2));
        // stdout and stderr both logged, each job in exactly one lane.
        for job in ["job-a", "job-b", "job-c"] {
            assert!(
                one.contains(job) != two.contains(job),
                "{job}:\n{one}\n{two}"
            );
        }
        assert!(
            one.contains("job-a") != one.contains("job-b"),
            "{one}\n{two}"
        );
        // The third job ran after the first job of its lane.
        let lane_of_c = if one.contains("job-c") { &one } else { &two };
        let first = lane_of_c.find("job-a").or(lane_of_c.find("job-b")).unwrap();
        assert!(first < lane_of_c.find("job-c").unwrap(), "{lane_of_c}");
        std::fs::remove_dir_all(&ctx.root).unwrap();
    }

    #[test]
    fn lanes_start_no_job_after_a_failure_and_report_each_failed_job() {
        let ctx = scratch("lanes-fail");
        // One lane: the jobs run in order, and none after the failure.
        let jobs = vec![
            sh(&ctx, "echo first"),
            sh(&ctx, "echo second; exit 3"),
            sh(&ctx, "echo never"),
        ];
        let err = run_lanes(&ctx, "t", 1, jobs).unwrap_err();
        assert!(
            err.starts_with("t lane 1: `sh -c 'echo second; exit 3'`"),
            "{err}"
        );
        assert!(err.contains("exit status: 3"), "{err}");
        let one = lane_log(&ctx, 1);
        assert!(
            one.find("first").unwrap() < one.find("second").unwrap(),
            "{one}"
        );
        assert!(!one.contains("never"), "{one}");
        // Two lanes, two jobs running together, one failing: the running
        // one finishes, and the error names only the failed job.
        let jobs = vec![
            sh(&ctx, &format!("touch c && {} && echo fine", wait_for("d"))),
            sh(&ctx, &format!("touch d && {} && exit 4", wait_for("c"))),
        ];
        let err = run_lanes(&ctx, "t", 2, jobs).unwrap_err();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("exit 4") && err.contains("exit status: 4"),
            "{err}"
        );
        assert!(lane_log(&ctx, 1).contains("fine") || lane_log(&ctx, 2).contains("fine"));
        std::fs::remove_dir_all(&ctx.root).unwrap();
    }

    #[test]
    fn test_executables_come_from_cargos_json_with_their_package_dir() {
        let json = concat!(
            r#"{"reason":"compiler-artifact","package_id":"p","manifest_path":"/w/crates/a b/Cargo.toml","target":{"kind":["test"],"name":"loom_x"},"executable":"/w/target/loom/release/deps/loom_x-0123","fresh":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","manifest_path":"/w/crates/c/Cargo.toml","target":{"kind":["lib"]},"executable":null,"fresh":true}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","manifest_path":"C:\\w\\d\"e\u0041\\Cargo.toml","executable":"C:\\t\\loom_y-9.exe"}"#,
        );
        let found = test_executables(json);
        assert_eq!(
            found,
            [
                (
                    "/w/target/loom/release/deps/loom_x-0123".to_owned(),
                    PathBuf::from("/w/crates/a b")
                ),
                (
                    r"C:\t\loom_y-9.exe".to_owned(),
                    PathBuf::from(r#"C:\w\d"eA\Cargo.toml"#)
                        .parent()
                        .unwrap()
                        .to_path_buf()
                ),
            ]
        );
        assert_eq!(json_str(r#"{"a":"x\"#, "a"), None);
        assert_eq!(json_str(r#"{"a":null}"#, "a"), None);
    }

    #[test]
    fn the_test_step_runs_every_example_the_readme_names() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let manifest = std::fs::read_to_string(root.join("examples/Cargo.toml")).unwrap();
        let examples = section_names(&manifest, "[[example]]");
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        assert!(examples.iter().any(|e| e == "quickstart"));
        for e in &examples {
            assert!(
                readme.contains(&format!("`{e}`")),
                "README.md does not name `{e}`"
            );
        }
    }
}
