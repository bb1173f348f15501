//! A small mutation fuzzer that runs on stable Rust, as ordinary tests.
//!
//! Each target starts from its committed seed corpus (`fuzz/corpus/<target>/`), runs every seed
//! as is, then mutates them: bit flips, interesting bytes and numbers, inserts, deletes, repeated
//! runs, target-specific tokens and splices between corpus files. Iteration `i` of a run draws
//! everything from a generator seeded with `(seed, target, i)`, so `DEBCAST_FUZZ_SEED` and the
//! iteration number reproduce an input exactly.
//!
//! Every input runs on a worker thread under `catch_unwind`, watched for time (a hang) and for
//! memory (a counting allocator in this test binary, per thread). A panic, a hang or an allocation
//! beyond the limits writes the input to `target/fuzz-crashes/<target>/<hash>` and fails the test
//! naming the file and how to run it again.
//!
//! Environment:
//! - `DEBCAST_FUZZ_SEED`: the run's seed (default fixed).
//! - `DEBCAST_FUZZ_ITERS`: mutated inputs per target (default 1000).
//! - `DEBCAST_FUZZ_SECS`: time budget per target in seconds (default 2; `just fuzz` sets more).
//! - `DEBCAST_FUZZ_INPUT`: run only this file through the target(s) selected, without catching
//!   anything (to reproduce a crash under a debugger or with `RUST_BACKTRACE=1`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The largest input a mutation may produce.
pub const MAX_INPUT: usize = 1 << 20;
/// Memory one input may hold at once on the worker thread before it counts as unbounded.
const SOFT_MEMORY: usize = 256 << 20;
/// Beyond this, an allocation is refused on the spot (the process aborts after saving the input).
const HARD_MEMORY: usize = 1 << 30;
const DEFAULT_SEED: u64 = 0x6465_6263_6173_7431;
const DEFAULT_ITERS: u64 = 1000;
const DEFAULT_SECS: u64 = 2;
/// One input taking longer than this is a hang.
const HANG: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Memory accounting.

pub struct CountingAlloc;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
    /// The input being run on this thread, for the hard-limit report.
    static INPUT: Cell<(*const u8, usize)> = const { Cell::new((std::ptr::null(), 0)) };
    static CRASH_DIR: Cell<Option<&'static Path>> = const { Cell::new(None) };
}

fn note_alloc(size: usize) -> bool {
    TRACKING
        .try_with(|t| {
            if !t.get() {
                return true;
            }
            let cur = CURRENT.with(|c| c.get()).saturating_add(size);
            if cur > HARD_MEMORY {
                t.set(false);
                hard_limit(size);
                return false;
            }
            CURRENT.with(|c| c.set(cur));
            PEAK.with(|p| p.set(p.get().max(cur)));
            true
        })
        .unwrap_or(true)
}

fn note_free(size: usize) {
    let _ = TRACKING.try_with(|t| {
        if t.get() {
            CURRENT.with(|c| c.set(c.get().saturating_sub(size)));
        }
    });
}

/// Saves the input that asked for too much and aborts: the allocation cannot fail politely.
#[cold]
fn hard_limit(size: usize) {
    let (ptr, len) = INPUT.with(|i| i.get());
    let dir = CRASH_DIR.with(|d| d.get());
    if let (false, Some(dir)) = (ptr.is_null(), dir) {
        // SAFETY: set from a live slice by `track` for the duration of the run.
        let input = unsafe { std::slice::from_raw_parts(ptr, len) };
        let path = save(dir, input);
        eprintln!(
            "fuzz: an input asked for {size} more bytes with {} MiB already held; saved as {}",
            HARD_MEMORY >> 20,
            path.display()
        );
    }
    std::process::abort();
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !note_alloc(layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !note_alloc(layout.size()) {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note_free(layout.size());
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_free(layout.size());
        if !note_alloc(new_size) {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` on `input` with this thread's allocations counted; returns the peak held.
fn track(input: &[u8], crash_dir: &'static Path, f: impl FnOnce()) -> usize {
    INPUT.with(|i| i.set((input.as_ptr(), input.len())));
    CRASH_DIR.with(|d| d.set(Some(crash_dir)));
    CURRENT.with(|c| c.set(0));
    PEAK.with(|p| p.set(0));
    TRACKING.with(|t| t.set(true));
    f();
    TRACKING.with(|t| t.set(false));
    INPUT.with(|i| i.set((std::ptr::null(), 0)));
    PEAK.with(|p| p.get())
}

// ---------------------------------------------------------------------------------------------
// Randomness and mutation.

/// SplitMix64: small, fast, good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// FNV-1a, for names of saved inputs and per-target seeds (stable across runs and platforms).
pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const INTERESTING_BYTES: &[u8] = &[
    0, 0xff, 0x7f, 0x80, 0x01, b'\n', b'\r', b' ', b'\t', b':', b'/', b'.', b'0', b'9', b'-', b'"', b'\'',
    b'\\', b'=', b'[', b']', b'{', b'}', b'$', b'`', b'#',
];

const INTERESTING_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "00000000000",
    "77777777777",
    "9999999999",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "-9223372036854775808",
    "0x10",
    "1e400",
    "nan",
];

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>], tokens: &[&[u8]]) {
    let len = data.len();
    match rng.below(13) {
        // Flip one bit.
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        // Replace a byte with an interesting one, or a random one.
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = if rng.chance(2) {
                INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())]
            } else {
                rng.next() as u8
            };
        }
        // Insert a few random or interesting bytes.
        2 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..n)
                .map(|_| {
                    if rng.chance(2) {
                        INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())]
                    } else {
                        rng.next() as u8
                    }
                })
                .collect();
            data.splice(at..at, bytes);
        }
        // Delete a range.
        3 if len > 0 => {
            let at = rng.below(len);
            let most = if rng.chance(4) { 4096 } else { 16 };
            let n = 1 + rng.below((len - at).min(most));
            data.drain(at..at + n);
        }
        // Duplicate a range in place.
        4 if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(512));
            let copy = data[at..at + n].to_vec();
            let to = rng.below(len + 1);
            data.splice(to..to, copy);
        }
        // A long run of one byte.
        5 => {
            let at = rng.below(len + 1);
            let b = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())];
            let n = [16, 255, 256, 4096, 65_537][rng.below(5)];
            data.splice(at..at, std::iter::repeat_n(b, n));
        }
        // A target token, once or repeated many times (deep nesting, long lists).
        6 | 7 if !tokens.is_empty() => {
            let at = rng.below(len + 1);
            let t = tokens[rng.below(tokens.len())];
            let n = if rng.chance(6) {
                [10, 100, 1000, 10_000][rng.below(4)]
            } else {
                1
            };
            let mut ins = Vec::with_capacity(t.len() * n);
            for _ in 0..n {
                ins.extend_from_slice(t);
            }
            data.splice(at..at, ins);
        }
        // Replace a run of ASCII digits (or insert) with an interesting number.
        8 => {
            let num = INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())].as_bytes();
            let digits: Vec<usize> = (0..len).filter(|&i| data[i].is_ascii_digit()).collect();
            if digits.is_empty() {
                let at = rng.below(len + 1);
                data.splice(at..at, num.iter().copied());
            } else {
                let start = digits[rng.below(digits.len())];
                let mut end = start;
                while end < len && data[end].is_ascii_digit() {
                    end += 1;
                }
                data.splice(start..end, num.iter().copied());
            }
        }
        // Splice: this input's head with another corpus file's tail.
        9 if !corpus.is_empty() => {
            let other = &corpus[rng.below(corpus.len())];
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        // Insert a chunk of another corpus file.
        10 if !corpus.is_empty() => {
            let other = &corpus[rng.below(corpus.len())];
            if !other.is_empty() {
                let from = rng.below(other.len());
                let n = 1 + rng.below((other.len() - from).min(1024));
                let at = rng.below(len + 1);
                data.splice(at..at, other[from..from + n].iter().copied());
            }
        }
        // Truncate.
        11 if len > 0 => {
            data.truncate(rng.below(len));
        }
        // Swap two bytes.
        _ if len > 1 => {
            let (a, b) = (rng.below(len), rng.below(len));
            data.swap(a, b);
        }
        _ => data.push(rng.next() as u8),
    }
}

/// One mutated input from the corpus.
pub fn mutate(rng: &mut Rng, corpus: &[Vec<u8>], tokens: &[&[u8]]) -> Vec<u8> {
    let mut data = if corpus.is_empty() || rng.chance(64) {
        Vec::new()
    } else {
        corpus[rng.below(corpus.len())].clone()
    };
    let most = if rng.chance(4) { 32 } else { 4 };
    let rounds = 1 + rng.below(most);
    for _ in 0..rounds {
        mutate_once(rng, &mut data, corpus, tokens);
        data.truncate(MAX_INPUT);
    }
    data
}

// ---------------------------------------------------------------------------------------------
// The driver.

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    match parsed {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={v:?} is not a number"),
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn corpus_dir(target: &str) -> PathBuf {
    repo_root().join("fuzz/corpus").join(target)
}

fn crash_dir(target: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo_root().join("target"), PathBuf::from);
    base.join("fuzz-crashes").join(target)
}

/// Writes `input` under `dir` by its hash; returns the path.
fn save(dir: &Path, input: &[u8]) -> PathBuf {
    let path = dir.join(format!("{:016x}", fnv(input)));
    let _ = std::fs::create_dir_all(dir);
    let _ = std::fs::write(&path, input);
    path
}

/// The corpus files of `target`, sorted by name.
pub fn load_corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_file()
                && let Ok(b) = std::fs::read(&p)
            {
                out.push((p, b));
            }
        }
    }
    out.sort();
    out
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic)".to_owned()
    }
}

enum Outcome {
    Ok { peak: usize },
    Panic(String),
}

/// Fuzzes `target`: its corpus as is, then mutations, until the iteration count or the time
/// budget runs out. `run` must only panic on a bug.
pub fn fuzz(target: &'static str, tokens: &'static [&'static [u8]], run: fn(&[u8])) {
    if let Some(path) = std::env::var_os("DEBCAST_FUZZ_INPUT") {
        let input = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {path:?}: {e}"));
        eprintln!(
            "fuzz {target}: running {} ({} bytes) alone",
            Path::new(&path).display(),
            input.len()
        );
        run(&input);
        return;
    }
    let seed = env_u64("DEBCAST_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let secs = env_u64("DEBCAST_FUZZ_SECS");
    let iters =
        env_u64("DEBCAST_FUZZ_ITERS").unwrap_or(if secs.is_some() { u64::MAX } else { DEFAULT_ITERS });
    let budget = Duration::from_secs(secs.unwrap_or(DEFAULT_SECS));
    let corpus_files = load_corpus(target);
    assert!(
        !corpus_files.is_empty(),
        "fuzz target {target}: no seed corpus in {} (write it with `cargo test --test it fuzz::write_corpus -- --ignored`)",
        corpus_dir(target).display()
    );
    let corpus: Vec<Vec<u8>> = corpus_files.iter().map(|(_, b)| b.clone()).collect();
    let crashes: &'static Path = Box::leak(crash_dir(target).into_boxed_path());

    // The worker runs inputs; this thread watches the clock.
    let (to_worker, inputs) = mpsc::channel::<Vec<u8>>();
    let (to_driver, outcomes) = mpsc::channel::<Outcome>();
    std::thread::Builder::new()
        .name(format!("fuzz-{target}"))
        .stack_size(64 << 20)
        .spawn(move || {
            for input in inputs {
                let mut result = Ok(());
                let peak = track(&input, crashes, || {
                    result = catch_unwind(AssertUnwindSafe(|| run(&input)));
                });
                let outcome = match result {
                    Ok(()) => Outcome::Ok { peak },
                    Err(p) => Outcome::Panic(panic_message(&*p)),
                };
                if to_driver.send(outcome).is_err() {
                    return;
                }
            }
        })
        .expect("spawning the fuzz worker");

    let started = Instant::now();
    let target_seed = seed ^ fnv(target.as_bytes());
    let mut ran = 0u64;
    let mut max_peak = 0usize;
    // Seeds first (iteration numbers are only for mutations).
    let seeds = corpus_files
        .iter()
        .map(|(p, b)| (format!("corpus file {}", p.display()), b.clone()));
    let mutants = (0..iters).take_while(|_| started.elapsed() < budget).map(|i| {
        let mut rng = Rng::new(target_seed.wrapping_add(i.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
        (format!("iteration {i}"), mutate(&mut rng, &corpus, tokens))
    });
    for (what, input) in seeds.chain(mutants) {
        to_worker.send(input.clone()).expect("the fuzz worker stopped");
        let failure = match outcomes.recv_timeout(HANG) {
            Ok(Outcome::Ok { peak }) if peak > SOFT_MEMORY => Some(format!(
                "held {} MiB at once (limit {} MiB)",
                peak >> 20,
                SOFT_MEMORY >> 20
            )),
            Ok(Outcome::Ok { peak }) => {
                max_peak = max_peak.max(peak);
                None
            }
            Ok(Outcome::Panic(msg)) => Some(format!("panicked: {msg}")),
            Err(_) => Some(format!("ran longer than {} s (a hang?)", HANG.as_secs())),
        };
        if let Some(failure) = failure {
            let path = save(crashes, &input);
            panic!(
                "fuzz target {target}: {what} (DEBCAST_FUZZ_SEED={seed:#x}) {failure}\n\
                 input saved as {}\n\
                 reproduce: DEBCAST_FUZZ_INPUT={} cargo test --test it fuzz::{target}",
                path.display(),
                path.display()
            );
        }
        ran += 1;
    }
    eprintln!(
        "fuzz {target}: {ran} inputs ({} seeds) in {:.1} s, seed {seed:#x}, peak memory per input {} KiB",
        corpus.len(),
        started.elapsed().as_secs_f64(),
        max_peak >> 10
    );
}
