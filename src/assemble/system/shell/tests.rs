use super::*;

/// What a guess sink is told: each undecided condition with the commands left unwalked.
pub(super) type Told = Vec<(String, Vec<String>)>;

/// The calls a walk makes and what its guess sink is told.
pub(super) fn calls_and_told(src: &str) -> (Vec<Result<Vec<String>, String>>, Told) {
    let nodes = parse(src).unwrap();
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| out.push(c.argv);
    let told = std::cell::RefCell::new(Vec::new());
    let sink = |cond: &str, unwalked: &[String]| told.borrow_mut().push((cond.to_owned(), unwalked.to_vec()));
    Eval::new(&["configure", ""], &mut cb)
        .with_guesses(&sink)
        .run_script(&nodes)
        .unwrap();
    (out, told.into_inner())
}

/// The first word each `echo` the walk reached printed.
fn first_echo_words(calls: Vec<Result<Vec<String>, String>>) -> Vec<String> {
    calls
        .into_iter()
        .filter_map(Result::ok)
        .filter(|argv| argv[0] == "echo")
        .map(|argv| argv[1].clone())
        .collect()
}

pub(super) fn calls(src: &str) -> Vec<Result<Vec<String>, String>> {
    let nodes = parse(src).unwrap();
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| out.push(c.argv);
    Eval::new(&["configure", ""], &mut cb).run(&nodes);
    out
}

#[test]
fn sourcing_a_large_file_many_times_is_bounded() {
    // Found by the fuzzer (tests/it/fuzz.rs, target `shell`): every `. FILE` parsed and walked
    // the whole file again, so 10 000 of them over a large file took minutes.
    let library = format!("f() {{ echo hi; }}\n{}", "x=1\n".repeat(50_000));
    let script = ". /lib/big.sh\n".repeat(5_000) + "f\n";
    let reads = std::cell::Cell::new(0usize);
    let source = |_: &str| {
        reads.set(reads.get() + 1);
        Some(library.clone())
    };
    let nodes = parse(&script).unwrap();
    let mut cb = |_: Call<'_>| {};
    let started = std::time::Instant::now();
    let r = Eval::new(&["configure", ""], &mut cb)
        .with_source(&source)
        .run_script(&nodes);
    assert_eq!(reads.get(), 1, "one read and parse per sourced path");
    assert!(
        r.unwrap_err().contains("stopped after"),
        "the sourced nodes count as steps"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // A library sourced once still defines its functions.
    let mut seen = Vec::new();
    let mut cb = |c: Call<'_>| seen.push(c.argv);
    let nodes = parse(". /lib/big.sh\nf\n").unwrap();
    Eval::new(&["configure", ""], &mut cb)
        .with_source(&source)
        .run_script(&nodes)
        .unwrap();
    assert_eq!(seen, vec![Ok(vec!["echo".to_owned(), "hi".to_owned()])]);
}

#[test]
fn case_branches_and_functions() {
    let got = calls(
        "f() {\n  echo x\n  run \"$1\" two\n}\ncase \"$1\" in\n  configure)\n    f one\n  ;;\n  abort-upgrade) nope ;;\nesac\n",
    );
    assert_eq!(
        got,
        vec![
            Ok(vec!["echo".into(), "x".into()]),
            Ok(vec!["run".into(), "one".into(), "two".into()])
        ]
    );
}

#[test]
fn substitution_of_echoing_function_and_loop() {
    let got = calls(
        "s () {\n\td=$1 f=$2\n\techo \"--slave $d/$f $f\"\n}\ncmd $(\n\ts /a b\n\tfor x in c d\n\tdo\n\t\ts /e $x\n\tdone\n)\n",
    );
    assert_eq!(
        got,
        vec![Ok("cmd --slave /a/b b --slave /e/c c --slave /e/d d"
            .split(' ')
            .map(String::from)
            .collect())]
    );
}

/// File commands inside `$(…)` reach the walk's caller (their effects are the script's) and
/// print nothing, so the value is still known; a verbose one or another command makes it unknown.
#[test]
fn file_commands_inside_a_substitution_reach_the_caller() {
    let got = calls(
        "add () {\n\tfor n in a b; do\n\t\techo -n \"$n \"\n\t\tln -sf /usr/share/x/$n /var/lib/x/$n\n\tdone\n}\n\
         list=$(add)\nprint \"[$list]\"\nv=$(mkdir -pv /var/lib/y)\nprint \"$v\"\n",
    );
    let argv = |s: &str| Ok(s.split(' ').map(String::from).collect::<Vec<_>>());
    assert_eq!(got[0], argv("ln -sf /usr/share/x/a /var/lib/x/a"));
    assert_eq!(got[1], argv("ln -sf /usr/share/x/b /var/lib/x/b"));
    assert_eq!(got[2], Ok(vec!["print".to_owned(), "[a b ]".to_owned()]));
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(got[3].is_err(), "mkdir -v prints: {got:?}");
}

/// A pipeline's stages run in subshells: what they assign and their `exit` end with them.
#[test]
fn a_pipeline_s_assignments_stay_in_it() {
    let got = calls(
        "error=false\nprintf 'a\\nb\\n' | while read l; do error=true; done\nprint \"$error\"\n\
         cat /etc/unknown | while read l; do error=true; done\nprint \"$error\"\n\
         echo x | exit 1\nprint end\n",
    );
    let print = |s: &str| Ok(vec!["print".to_owned(), s.to_owned()]);
    assert!(got.contains(&print("false")), "{got:?}");
    assert_eq!(got.iter().filter(|c| **c == print("false")).count(), 2, "{got:?}");
    assert_eq!(got.last(), Some(&print("end")), "{got:?}");
}

/// `open` repeated `n` times around `inner`, each level closed by `close`.
fn nest(open: &str, inner: &str, close: &str, n: usize) -> String {
    format!("{}{inner}{}", open.repeat(n), close.repeat(n))
}

/// Every construct whose nesting the script decides: 5000 levels is an error naming the
/// limit and the line, returned at once, never a stack overflow.
#[test]
fn deep_nesting_is_a_parse_error_not_a_stack_overflow() {
    let cases = [
        nest("(", "true", ")", 5000),
        nest("{ ", "true;", " }", 5000),
        nest("if true; then ", "true;", " fi;", 5000),
        nest("while true; do ", "true;", " done;", 5000),
        nest("for x in a; do ", "true;", " done;", 5000),
        nest("case x in x) ", "true;", " ;; esac;", 5000),
        nest("echo $(", "true", ")", 5000),
        nest("echo \"$(", "true", ")\"", 5000),
        nest("echo $( ( ", "true", " ) )", 2500),
        nest("echo ${x:-", "y", "}", 5000),
        format!("{}true\n", "f() ".repeat(5000)),
        format!("{}true\n", "! ( ".repeat(5000)),
    ];
    for (i, body) in cases.iter().enumerate() {
        let script = format!("#!/bin/sh\nset -e\n{body}\n");
        let started = std::time::Instant::now();
        // A thread with a small stack: the depth limit must hold well within it.
        let result = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || parse(&script).map(|_| ()).map_err(|e| (e.line, e.to_string())))
            .unwrap()
            .join()
            .unwrap();
        match result {
            Err((line, msg)) => {
                assert_eq!(line, 3, "case {i}: {msg}");
                // `${x:-${x:-…}}` is cut short by its first `}` instead: any error will do.
                if i != 9 {
                    assert!(
                        msg.contains(&format!("nesting deeper than {MAX_NESTING} levels")),
                        "case {i}: {msg}"
                    );
                }
            }
            Ok(()) if i == 9 => {}
            Ok(()) => panic!("case {i} parsed"),
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "case {i} took {:?}",
            started.elapsed()
        );
    }
}

/// Up to the limit, scripts still parse and are walked, on a small stack.
#[test]
fn nesting_up_to_the_limit_parses_and_runs() {
    let depth = MAX_NESTING - 1;
    let cases = [
        nest("( ", "touch /x", " )", depth),
        nest("if true; then ", "touch /x;", " fi;", depth),
        format!("echo {}", nest("$(", "touch /x", ")", depth)),
        format!("echo {}", nest("\"$(", "touch /x", ")\"", depth)),
        nest(
            "( ",
            &format!("echo {}", nest("$(", "touch /x", ")", depth / 2)),
            " )",
            depth / 2,
        ),
    ];
    for (i, body) in cases.into_iter().enumerate() {
        let touched = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let nodes = parse(&format!("#!/bin/sh\n{body}\n")).map_err(|e| e.to_string())?;
                let mut seen = false;
                let mut cb = |c: Call<'_>| {
                    // Inside `$(…)`, the command is what makes the outer one unknown.
                    seen |= match &c.argv {
                        Ok(argv) => argv.iter().any(|a| a == "touch"),
                        Err(what) => what.contains("touch /x"),
                    };
                };
                Eval::new(&["configure", ""], &mut cb).run_script(&nodes)?;
                Ok::<bool, String>(seen)
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(touched, Ok(true), "case {i}");
    }
}

#[test]
fn parse_errors_name_the_line() {
    let e = parse("#!/bin/sh\nif true; then\n  echo 'open\n").unwrap_err();
    assert_eq!((e.line, e.what.as_str()), (3, "unterminated '"), "{e}");
    let e = parse("#!/bin/sh\ntrue\nx=$(echo )\n  fi\n").unwrap_err();
    assert_eq!(e.line, 4, "{e}");
    let e = parse("#!/bin/sh\ntrue\necho \"$(\n\n  ( if )\n)\"\n").unwrap_err();
    assert_eq!(e.line, 5, "an error inside $(…) is placed in the script: {e}");
}

/// A function that calls itself, once or twice: the walk stops, says why, and is quick.
#[test]
fn runaway_evaluation_is_cut_short_and_said() {
    for script in [
        "f() { f; }\nf\n",
        "f() { f; f; }\nf\n",
        "f() { echo $(f) $(f); }\nf\n",
    ] {
        let nodes = parse(script).unwrap();
        let started = std::time::Instant::now();
        let mut cb = |_: Call<'_>| {};
        let cut = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || Eval::new(&["configure", ""], &mut cb).run_script(&nodes))
            .unwrap()
            .join()
            .unwrap();
        let why = cut.unwrap_err();
        assert!(why.contains("evaluation stopped"), "{why}");
        assert!(
            started.elapsed().as_secs() < 20,
            "{script:?} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn glob_patterns() {
    for (p, s, want) in [
        ("*", "", true),
        ("*", "abc", true),
        ("a*c", "abbbc", true),
        ("a*c", "abcd", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("*-upgrade", "abort-upgrade", true),
        ("configure", "configure", true),
        ("configure", "configured", false),
        ("*a*b*", "xaxxbx", true),
        ("*a*b", "xaxxbx", false),
    ] {
        assert_eq!(glob_match(p, s), want, "{p} vs {s}");
    }
    // A long hostile pattern is no recursion and no exponential time.
    let p = "*a".repeat(20_000);
    assert!(!glob_match(&p, &"a".repeat(19_999)));
    assert!(glob_match(&p, &"ba".repeat(20_000)));
}

#[test]
fn heredocs_and_redirections_are_skipped() {
    let got = calls("cat <<EOF\nnot a command\nEOF\nfoo >/dev/null 2>&1 || true\n");
    assert_eq!(got, vec![Ok(vec!["cat".into()]), Ok(vec!["foo".into()])]);
}

/// Parses every maintainer script installed on the host (see [`host_scripts::parses_host_maintainer_scripts`]).
mod host_scripts {
    /// Parses every maintainer script installed on the host (when it has a dpkg database): the
    /// parser must understand the forms real packages use.
    #[test]
    fn parses_host_maintainer_scripts() {
        let Ok(dir) = std::fs::read_dir("/var/lib/dpkg/info") else {
            eprintln!("note: no /var/lib/dpkg/info on this host, skipping");
            return;
        };
        let (mut ok, mut failed) = (0, Vec::new());
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !["preinst", "postinst", "prerm", "postrm", "config"]
                .iter()
                .any(|s| name.ends_with(&format!(".{s}")))
            {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            if !text.starts_with("#!/bin/sh")
                && !text.starts_with("#! /bin/sh")
                && !text.starts_with("#!/bin/bash")
            {
                continue;
            }
            match super::super::parse(&text) {
                Ok(_) => ok += 1,
                Err(err) => failed.push(format!("{name}: {err}")),
            }
        }
        eprintln!("parsed {ok}, failed {}:\n{}", failed.len(), failed.join("\n"));
        assert!(failed.len() * 20 <= ok, "too many failures");
    }
}

#[test]
fn shift_drops_positional_parameters() {
    let got = calls(
        "f() {\n\tfile=\"$1\"\n\tshift\n\tkeygen -f \"$file\" -N '' \"$@\"\n\tshift 5\n\tafter\n}\nf /etc/k -t ed25519\nnext\n",
    );
    assert_eq!(
        got,
        [
            Ok(vec![
                "keygen".into(),
                "-f".into(),
                "/etc/k".into(),
                "-N".into(),
                "".into(),
                "-t".into(),
                "ed25519".into()
            ]),
            // `shift 5` past the end fails: under `set -e` the script stops.
        ]
    );
}

#[test]
fn alternative_values_expand_as_sh_does() {
    // dh_installsysusers' form: `${DPKG_ROOT:+…}` is empty under dpkg (DPKG_ROOT is empty).
    let got = calls(
        "systemd-sysusers ${DPKG_ROOT:+--root=\"$DPKG_ROOT\"} basic.conf\nx=ab\ne=\ncmd ${x:+\"-v $x\"} ${x+set} ${e:+no} ${e+yes}\n",
    );
    assert_eq!(
        got,
        [
            Ok(vec!["systemd-sysusers".into(), "basic.conf".into()]),
            Ok(vec!["cmd".into(), "-v ab".into(), "set".into(), "yes".into()]),
        ]
    );
}

/// Standard output's `>`/`>>` (a compound command's too, for the commands inside) and
/// here-documents reach the callback with the command; other descriptors and duplications do not.
#[test]
fn stdout_redirections_and_here_documents_reach_the_callback() {
    let src = "f=/etc/x\ncat > \"$f\" <<-EOF\n\tone\n\t\ttwo\n\tEOF\necho a 2>/dev/null\necho b 1>>/etc/y 2>&1\n\
               cat <<'END' >/etc/z\n$HOME\nEND\ncat <<END\n$HOME\nEND\nfor i in 1; do :; done >/etc/loop\n\
               if true; then :; fi > /etc/if\n>/etc/empty\n";
    let nodes = parse(src).unwrap();
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| {
        out.push((c.argv.unwrap_or_default().join(" "), c.stdout, c.heredoc));
    };
    Eval::new(&["configure", ""], &mut cb).run(&nodes);
    let known = |s: &str| Some(Value::Known(s.to_owned()));
    assert_eq!(
        out,
        vec![
            (
                "cat".into(),
                known("/etc/x").map(|v| (v, false)),
                Some(Some("one\ntwo\n".into()))
            ),
            ("echo a".into(), None, None),
            ("echo b".into(), known("/etc/y").map(|v| (v, true)), None),
            (
                "cat".into(),
                known("/etc/z").map(|v| (v, false)),
                Some(Some("$HOME\n".into()))
            ),
            ("cat".into(), None, Some(None)),
            // A compound command's `>FILE` empties the file, then its commands write there.
            (":".into(), known("/etc/loop").map(|v| (v, false)), None),
            (":".into(), known("/etc/loop").map(|v| (v, true)), None),
            (":".into(), known("/etc/if").map(|v| (v, false)), None),
            (":".into(), known("/etc/if").map(|v| (v, true)), None),
            // `>FILE` alone empties (or makes) FILE, as `: >FILE` does.
            (":".into(), known("/etc/empty").map(|v| (v, false)), None),
        ]
    );
}

/// A redirection written before the command's words is the command's own, as in sh: `>FILE cmd`
/// writes FILE, `>&2 echo` does not write where an earlier `exec >FILE` sends standard output.
#[test]
fn redirections_before_the_command_s_words_are_kept() {
    let src = "exec >/etc/conf
>&2 echo warning
>/etc/other echo a b
echo kept
               true && >>/etc/log printf x; ( >/etc/sub echo y )
";
    let nodes = parse(src).unwrap();
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| {
        out.push((c.argv.unwrap_or_default().join(" "), c.stdout));
    };
    Eval::new(&["configure", ""], &mut cb).run(&nodes);
    let file = |s: &str, append: bool| Some((Value::Known(s.to_owned()), append));
    assert_eq!(
        out,
        vec![
            (":".into(), file("/etc/conf", false)),
            ("echo warning".into(), file("/dev/null", true)),
            ("echo a b".into(), file("/etc/other", false)),
            ("echo kept".into(), file("/etc/conf", true)),
            ("printf x".into(), file("/etc/log", true)),
            ("echo y".into(), file("/etc/sub", false)),
        ]
    );
}

/// A `||` fallback runs when the test before it is known false (the image answers it), and is
/// skipped when it is known true or not known (an ordinary command taken as succeeding).
#[test]
fn fallbacks_after_known_tests() {
    let nodes = parse(
        "[ -d /etc/p ] || mkdir /etc/p\n[ -d /etc/q ] || mkdir /etc/q\n[ -f /etc/p/c ] || write_config\n\
         false || echo ran\ntrue || echo skipped\ncmd || echo fallback\n[ -d /etc/q ] && echo and || echo or\n\
         [ -d /etc/p ] && echo and2 || echo or2\n",
    )
    .unwrap();
    let files = |p: &str| (p == "/etc/q").then_some(FileKind::Dir);
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| out.push(c.argv.unwrap_or_default().join(" "));
    Eval::new(&["configure", ""], &mut cb)
        .with_files(&files)
        .run(&nodes);
    assert_eq!(
        out,
        [
            "mkdir /etc/p",
            "write_config",
            "echo ran",
            "cmd",
            "echo and",
            "echo or2"
        ]
    );
}

/// A pipeline ending in `grep` decides a condition when what the stages before it print is
/// known; otherwise it runs, and both branches stay possible.
#[test]
fn pipelines_into_grep_as_conditions() {
    let got = |src: &str| -> Vec<String> {
        calls(src)
            .into_iter()
            .map(|c| c.unwrap_or_default().join(" "))
            .collect()
    };
    assert_eq!(
        got("if echo 'Value: /a' | grep --quiet 'Value: /a'; then echo yes; else echo no; fi\n"),
        ["echo yes"]
    );
    assert_eq!(
        got(
            "if ! printf 'x\\ny\\n' | grep -qx y; then echo no; fi\nprintf 'a\\n' | grep -q b >/dev/null && echo found || echo none\n"
        ),
        ["echo none"]
    );
    // egrep and fgrep are grep -E and -F (clamav-freshclam's `echo "$m" | egrep -q '(\(|\))'`).
    assert_eq!(
        got("if echo 'a (b)' | egrep -q '(\\(|\\))'; then echo paren; fi
             if echo 'a.b' | fgrep -q 'a*b'; then echo star; fi
x=$(echo a.b | egrep 'a|z')
echo \"$x\"
"),
        ["echo paren", "echo a.b"]
    );
    // An option grep's emulation does not know, or an unknown producer: the pipeline runs as
    // written (its status unknown: `&&` goes on, `||`'s fallback is not assumed).
    assert_eq!(
        got("echo a | grep --byte-offset a && echo c\nunknown | grep -q a || echo d\n"),
        ["grep --byte-offset a", "echo c", "unknown", "grep -q a"]
    );
}

/// In a script dpkg runs, a variable nothing assigned is empty (its environment carries little:
/// ca-certificates-java's `[ "$CACERT_UPDATES" = disabled ]`), except what the environment
/// does carry; after an `eval` the walk no longer knows what is assigned; a plain walk (no
/// package) keeps unset variables unknown.
#[test]
fn unset_variables_in_a_dpkg_run_script() {
    let src = "[ \"$CACERT_UPDATES\" = disabled ] && echo off || echo on\n[ -n \"$HOME\" ] && echo home\n\
               eval \"$(unknown)\"\n[ \"$OTHER\" = x ] && echo other\n";
    let nodes = parse(src).unwrap();
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| out.push(c.argv.map(|a| a.join(" ")).unwrap_or_else(|e| format!("? {e}")));
    Eval::new(&["configure", ""], &mut cb)
        .with_package("p", "amd64", "postinst", "amd64")
        .run(&nodes);
    // `$HOME` and, after the `eval`, `$OTHER` are unknown: their tests run, and what follows
    // `&&` is walked.
    assert_eq!(
        out,
        [
            "echo on",
            "? $HOME",
            "echo home",
            "? $(unknown)",
            "? $OTHER",
            "echo other"
        ]
    );
    let mut plain = Vec::new();
    let mut cb = |c: Call<'_>| plain.push(c.argv.is_ok());
    Eval::new(&["configure", ""], &mut cb).run(&parse("[ \"$CACERT_UPDATES\" = x ] && echo y\n").unwrap());
    assert_eq!(plain, [false, true], "a plain walk keeps unset variables unknown");
}

/// AppArmor is not enabled while an image is built: dh_apparmor's reload is not reached.
#[test]
fn apparmor_is_disabled_at_build_time() {
    let got: Vec<String> = calls(
        "if aa-enabled --quiet 2>/dev/null; then apparmor_parser -r -T -W /etc/apparmor.d/x || true; fi
         aa-status --enabled && echo on || echo off
",
    )
    .into_iter()
    .map(|c| c.unwrap_or_default().join(" "))
    .collect();
    assert_eq!(got, ["echo off"]);
}

/// `cd` moves the working directory the callback is told of and relative file tests and
/// redirections use; `cd -` goes back; a subshell's `cd`, variables and `exit` stay inside it;
/// `cd` to a directory not known makes it unknown.
#[test]
fn working_directory_follows_cd() {
    let nodes = parse(
        "cd /var/spool/postfix\n[ -d private ] && echo has-private\n[ -d public ] || echo no-public\n\
         echo x > out\nX=0\n( cd /tmp; X=1; echo $(pwd); exit 1 )\necho \"$X\" $(pwd)\ncd /etc\ncd -\nmkdir a\ncd \"$(unknown)\"\nmkdir b\n",
    )
    .unwrap();
    let files = |p: &str| (p == "/var/spool/postfix/private").then_some(FileKind::Dir);
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| {
        let stdout = match &c.stdout {
            Some((Value::Known(p), _)) => format!(" > {p}"),
            _ => String::new(),
        };
        out.push(format!(
            "{}{stdout} @ {}",
            c.argv.unwrap_or_default().join(" "),
            c.cwd.unwrap_or_else(|| "?".into())
        ));
    };
    Eval::new(&["configure", ""], &mut cb)
        .with_files(&files)
        .run(&nodes);
    assert_eq!(
        out,
        [
            "echo has-private @ /var/spool/postfix",
            "echo no-public @ /var/spool/postfix",
            "echo x > /var/spool/postfix/out @ /var/spool/postfix",
            "echo /tmp @ /tmp",
            "echo 0 /var/spool/postfix @ /var/spool/postfix",
            "mkdir a @ /var/spool/postfix",
            "mkdir b @ ?",
        ]
    );
}

/// `trap ACTION EXIT` runs when the script ends (off its end or by `exit`), once; `break` and
/// `continue` leave the loop's body.
#[test]
fn exit_traps_and_loop_control() {
    let run = |src: &str| {
        let nodes = parse(src).unwrap();
        let mut out = Vec::new();
        let mut cb = |c: Call<'_>| out.push(c.argv.unwrap_or_default().join(" "));
        Eval::new(&["configure", ""], &mut cb).run_script(&nodes).unwrap();
        out
    };
    assert_eq!(
        run(
            "t=/tmp/x\ncleanup() { rm -f \"$t\"; }\nf() { trap cleanup EXIT; }\nf\necho body\nexit 0\necho never\n"
        ),
        ["echo body", "rm -f /tmp/x"]
    );
    assert_eq!(run("trap 'echo a' 0\ntrap - EXIT\necho b\n"), ["echo b"]);
    assert_eq!(
        run(
            "for i in 1 2 3; do\n if [ $i = 2 ]; then continue; fi\n [ $i = 3 ] && break\n echo $i\ndone\necho after\n"
        ),
        ["echo 1", "echo after"]
    );
}

/// debconf's answers reach `RET`; `$(…)` asks the caller what a command prints.
#[test]
fn debconf_answers_and_command_output() {
    let nodes = parse(
        "db_get srv/root\nroot=\"$RET\"\nif [ \"$root\" != true ]; then echo edit; fi\n\
         t=\"$(mktemp)\"\necho \"$t\"\nu=$(unknown-tool)\necho \"$u\"\n",
    )
    .unwrap();
    let debconf =
        |argv: &[String]| (argv[0] == "db_get").then(|| DebconfReply::ok(Value::Known("false".into())));
    let output = |argv: &[String]| (argv[0] == "mktemp").then(|| "/tmp/tmp.1\n".to_owned());
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| out.push(c.argv);
    Eval::new(&["configure", ""], &mut cb)
        .with_debconf(&debconf)
        .with_output(&output)
        .run(&nodes);
    assert_eq!(
        out[..2],
        [Ok(argv_of("echo edit")), Ok(argv_of("echo /tmp/tmp.1"))]
    );
    assert!(
        matches!(&out[2], Err(what) if what.contains("unknown-tool")),
        "{out:?}"
    );
}

fn argv_of(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

/// `${x#p}`, `${x##p}`, `${x%p}`, `${x%%p}` as sh removes prefixes and suffixes.
#[test]
fn prefix_and_suffix_removal() {
    let got = calls(
        "p=postgresql-15\nf=/usr/share/man/man1/psql.1.gz\n\
         echo ${p##*-} ${p#*-} ${f##*/} ${f#*/} ${f%.*} ${f%%.*} ${f%x}\n",
    );
    assert_eq!(
        got[0].as_ref().map(|a| a.join(" ")),
        Ok("echo 15 15 psql.1.gz usr/share/man/man1/psql.1.gz /usr/share/man/man1/psql.1 /usr/share/man/man1/psql /usr/share/man/man1/psql.1.gz".into())
    );
    assert!(got[0].is_ok());
    // A blank in the pattern is part of it.
    let blank = calls("l='flush  unix n'\necho \"${l%% *}\" \"${l#* }\" \"${l% *}\"\n");
    assert_eq!(
        blank[0].as_ref().map(|a| a.join("|")),
        Ok("echo|flush| unix n|flush  unix".into())
    );
    let quoted = calls("p=a*b\necho ${p#\"a*\"}\n");
    assert!(quoted[0].is_err(), "a quoted pattern is literal: not guessed");
}

/// A command used as an `if` condition runs (it may have an effect), and its branch is taken
/// when its status is not known; a known test only decides.
#[test]
fn condition_commands_run() {
    assert_eq!(
        calls(
            "if mkdir /x 2>/dev/null; then chmod 2775 /x; fi\nif [ -n \"\" ]; then echo no; else echo yes; fi\n"
        ),
        [
            Ok(argv_of("mkdir /x")),
            Ok(argv_of("chmod 2775 /x")),
            Ok(argv_of("echo yes"))
        ]
    );
}

/// A function whose pipeline ends in `while read` feeds a later stage: the loop reads the lines
/// before it, and no loop reaches the caller as a command.
#[test]
fn loops_reading_pipelines() {
    let nodes = parse(
        "members() { echo \"$1\" | tr ',' '\\n' | while read x; do echo \"got $x\"; done; }\n\
         members a,b | grep -q 'got b'\nunknown | while read y; do echo \"$y\"; done | sort\n",
    )
    .unwrap();
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| out.push((c.argv.unwrap_or_default().join(" "), c.stdin));
    Eval::new(&["configure", ""], &mut cb).run(&nodes);
    assert_eq!(
        out,
        [
            ("grep -q got b".to_owned(), Some("got a\ngot b\n".to_owned())),
            ("unknown".to_owned(), None),
            ("sort".to_owned(), None),
        ]
    );
}

#[test]
fn a_function_called_with_an_unknown_argument_keeps_the_others_in_place() {
    // php-common's `php_invoke enmod 8.2 cli $mod` with `$mod` unknown: `$1`…`$3` stay what the
    // call passed, `$4` is unknown (not `$5` shifted into its place), and so are `$@` and
    // `$*`; `$#` counts it.
    let got = calls(
        "f() {\n\tfirst \"$1\" \"$3\"\n\tfourth \"$4\"\n\tall \"$@\"\n\tcount $#\n}\nf enmod 8.2 cli \"$(unknowable)\" extra\n",
    );
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0], Ok(vec!["first".into(), "enmod".into(), "cli".into()]));
    assert!(got[1].is_err(), "`$4` is the unknown argument: {:?}", got[1]);
    assert!(
        got[2].is_err(),
        "`\"$@\"` holds the unknown argument: {:?}",
        got[2]
    );
    assert_eq!(got[3], Ok(vec!["count".into(), "5".into()]));
}

#[test]
fn expansions_nest_inside_an_alternative() {
    // postfix's postinst: `myhostname="$myhostname${mydom:+.${mydom%.}}"`.
    let got = calls(
        "mydom=example.org.\nh=mail\nh=\"$h${mydom:+.${mydom%.}}\"\nrun \"$h\" \"${none:-${h%%.*}}\" '${literal}'\n",
    );
    assert_eq!(
        got,
        [Ok(vec![
            "run".into(),
            "mail.example.org".into(),
            "mail".into(),
            "${literal}".into()
        ])]
    );
}

/// The commands a dpkg-run `script` of `package` hands over, with the image's executable
/// `helpers` (path, text) followed into where `follow` wants them.
fn walk_with_helpers(
    helpers: &[(&str, &str)],
    follow: &dyn Fn(&[String]) -> bool,
    package: &str,
    script: &str,
) -> Vec<String> {
    let scripts = |p: &str| {
        helpers
            .iter()
            .find(|(path, _)| *path == p)
            .map(|(_, text)| text.to_string())
    };
    let files = |p: &str| {
        scripts(p).map(|_| FileKind::File {
            executable: true,
            empty: false,
        })
    };
    let nodes = parse(script).unwrap();
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| out.push(c.argv.unwrap_or_else(|e| vec![e]).join(" "));
    Eval::new(&["configure", ""], &mut cb)
        .with_files(&files)
        .with_source(&scripts)
        .with_helpers(follow)
        .with_package(package, "all", "postinst", "amd64")
        .run_script(&nodes)
        .unwrap();
    out
}

/// A command the caller wants followed that is a shell script of the image is walked in a shell
/// of its own: its arguments, `$0`, its `exit` ending only it; the caller's variables (but
/// dpkg's environment and the command's assignments), functions and positional parameters are
/// not its, and come back after it. Scripts of other interpreters, commands the caller does not
/// want followed and helpers whose output is captured are handed over as they are.
#[test]
fn helper_scripts_are_walked_in_a_shell_of_their_own() {
    let helpers = [
        (
            "/usr/share/mc/configure-symlinks",
            "#!/bin/sh\nset -e\ncase \"$1\" in\n  install)\n    update-alternatives --install /etc/my.cnf my.cnf \"$3\" 200 \"$0\" \"${secret:-unset}\" \"$MODE\"\n    exit 0\n  ;;\nesac\nnever\n",
        ),
        ("/usr/bin/perlish", "#!/usr/bin/perl\nprint 1;\n"),
        (
            "/usr/sbin/nested",
            "#!/usr/bin/env bash\nf() { inner \"$@\"; }\nf \"$2\"\n",
        ),
    ];
    let follow = |argv: &[String]| argv[0] != "update-alternatives" && argv[0] != "inner";
    let script = "f() { echo not-visible; }\nsecret=caller\nMODE=fast /usr/share/mc/configure-symlinks install mariadb /etc/mysql/mariadb.cnf\n\
                  perlish x\nnested a b\nv=$(nested a b)\nafter \"$1\" \"$secret\"\n";
    let out = walk_with_helpers(&helpers, &follow, "mariadb-common", script);
    assert_eq!(
        out,
        [
            "set -e",
            "update-alternatives --install /etc/my.cnf my.cnf /etc/mysql/mariadb.cnf 200 /usr/share/mc/configure-symlinks unset fast",
            "perlish x",
            "inner b",
            "after configure caller",
        ]
    );
}

/// `exec CMD` runs CMD in the shell's place: a helper script is followed into, and nothing
/// after the `exec` runs (cyrus' dispatcher `exec`s its tools); in a helper it ends the helper
/// only. `exec` with only a redirection goes on.
#[test]
fn exec_runs_its_command_in_the_shell_s_place() {
    let helpers = [
        (
            "/usr/sbin/dispatch",
            "#!/bin/sh\ncase \"$1\" in\n  makedirs) shift; exec /usr/lib/tool/makedirs \"$@\" ;;\nesac\nnot-reached\n",
        ),
        (
            "/usr/lib/tool/makedirs",
            "#!/bin/sh -e\nmkdir -p /var/spool/tool/$1\n",
        ),
    ];
    let follow = |argv: &[String]| argv[0] != "mkdir";
    let script =
        "exec >/dev/null\nexec $EMPTY\ndispatch makedirs --cleansquat\necho back\nexec other --flag\nnever\n";
    let out = walk_with_helpers(&helpers, &follow, "cyrus-common", script);
    assert_eq!(
        out,
        [
            "mkdir -p /var/spool/tool/--cleansquat",
            "echo back",
            "other --flag"
        ]
    );
}

/// `CMD &` runs in a subshell of its own: an `exec` or `exit` there ends the job, not the
/// script, and what the job assigns stays in it.
#[test]
fn a_background_job_does_not_end_the_script() {
    let out = walk_with_helpers(
        &[],
        &|_: &[String]| false,
        "pkg",
        "exec daemon --once &\nexit 3 &\nX=set & echo \"x=$X\"\nif true; then touch /a; fi &\necho end\n",
    );
    assert_eq!(out, ["daemon --once", "echo x=", "touch /a", "echo end"]);
    // `$?` after a job is 0, whatever the job's own status.
    let out = walk_with_helpers(
        &[],
        &|_: &[String]| false,
        "pkg",
        "false &\nif [ $? -eq 0 ]; then touch /ok; fi\n{ false; } &\n[ $? = 0 ] && touch /ok2\n",
    );
    assert_eq!(out, ["false", "touch /ok", "false", "touch /ok2"]);
}

/// bash's `function NAME () {…}` and `function NAME {…}` define functions as `NAME() {…}` does
/// (nbd-server's bash postinst defines `function shell_quote ()` before everything else).
#[test]
fn bash_function_keyword_defines_a_function() {
    let out = walk_with_helpers(
        &[],
        &|_: &[String]| false,
        "nbd-server",
        "#! /bin/bash\nfunction q () {\n  echo -n \"'$1'\"\n}\nfunction g\n{\n  touch /b\n}\nq x\ng\nucf --debconf-ok /t /etc/c\n",
    );
    assert_eq!(out, ["echo -n 'x'", "touch /b", "ucf --debconf-ok /t /etc/c"]);
}

/// `type NAME` as a condition: a function of the script or a command on the image's PATH.
#[test]
fn type_as_a_condition() {
    let nodes = parse(
        "f() { :; }\nif ! type add-shell > /dev/null 2>&1; then echo no-add-shell; fi\n\
         if type f >/dev/null; then echo has-f; fi\nif type missing >/dev/null; then echo has-missing; fi\n",
    )
    .unwrap();
    let files = |p: &str| {
        (p == "/usr/sbin/add-shell").then_some(FileKind::File {
            executable: true,
            empty: false,
        })
    };
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| out.push(c.argv.unwrap_or_default().join(" "));
    Eval::new(&["configure", ""], &mut cb)
        .with_files(&files)
        .run(&nodes);
    assert_eq!(out, ["echo has-f"]);
}

/// Unquoted `*`, `?` and `[…]` in absolute words are expanded against the image (bind9's
/// `chgrp bind /etc/bind/named.conf*`, `for f in /dir/*.conf`); a quoted pattern character is
/// literal; a pattern matching nothing stays as written.
#[test]
fn pathname_expansion_against_the_image() {
    let globs = |p: &str| {
        Some(match p {
            "/etc/bind/named.conf*" => vec![
                "/etc/bind/named.conf".to_owned(),
                "/etc/bind/named.conf.local".to_owned(),
            ],
            "/etc/x/*.conf" => vec!["/etc/x/a.conf".to_owned(), "/etc/x/b.conf".to_owned()],
            _ => vec![],
        })
    };
    let nodes = parse(
        "chgrp bind /etc/bind/named.conf*\nchmod 640 \"/etc/bind/named.conf*\"\nd=/etc/x\nfor f in \"$d\"/*.conf; do use $f; done\n\
         rm -f /nothing/*\nprintf '%s' /etc/bind/named.conf*\n",
    )
    .unwrap();
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| out.push(c.argv.unwrap_or_default().join(" "));
    Eval::new(&["configure", ""], &mut cb)
        .with_globs(&globs)
        .run(&nodes);
    assert_eq!(
        out,
        [
            "chgrp bind /etc/bind/named.conf /etc/bind/named.conf.local",
            "chmod 640 /etc/bind/named.conf*",
            "use /etc/x/a.conf",
            "use /etc/x/b.conf",
            "rm -f /nothing/*",
            "printf %s /etc/bind/named.conf /etc/bind/named.conf.local",
        ]
    );
}

/// A command whose words all expand to nothing (`$DEBUG` unset-empty, `${x:+…}` of an empty
/// variable) is no command; one whose name is unknown is reported as written, never called as
/// the function its first known argument names.
#[test]
fn commands_that_expand_to_nothing_or_to_an_unknown_name() {
    let got = calls("DEBUG=\nx=\n$DEBUG\n${x:+set -x}\nf() { inside; }\n$(unknowable) f arg\n");
    assert_eq!(
        got,
        [Err("$(unknowable)".to_owned())],
        "nothing run for the empty ones, `f` not called"
    );
}

/// `local NAME=VALUE` in a function assigns (nagios4-common's `setperm` reads its arguments
/// through `local user="${1}"`); a bare `local NAME` keeps dash's surrounding value.
#[test]
fn local_assigns_its_values() {
    let got = calls(
        "setperm() {\n local user=\"${1}\" mode=$2\n local kept\n echo \"$user:$mode:$kept\"\n}\nkept=k\nsetperm nagios 0750\n",
    );
    assert_eq!(got, vec![Ok(vec!["echo".into(), "nagios:0750:k".into()])]);
}

/// `eval` with known words runs them as a script in the walk: the positional parameters getopt
/// output sets, a variable named by another (clamav's `eval "variable=\$$name"`).
#[test]
fn eval_runs_known_words() {
    let got = calls(
        "TEMP=$(getopt -n x -l init,force -- +fh --init)\neval set -- ${TEMP}\n\
         while test \"$1\" != \"--\"; do case $1 in --init) echo init ;; esac; shift; done\n\
         LogFile=/var/log/x\nname=LogFile\neval \"variable=\\$$name\"\necho \"$variable\"\n\
         eval \"echo $(uname -m)\"\n",
    );
    assert_eq!(
        got,
        vec![
            Ok(vec!["echo".into(), "init".into()]),
            Ok(vec!["echo".into(), "/var/log/x".into()]),
            Err("$(uname -m)".into()),
        ]
    );
}

/// `while`/`until` loops run while their condition is decided; an undecided one leaves the
/// body told as not walked (before, every such loop was skipped without a word).
#[test]
fn loops_run_while_their_condition_is_decided() {
    let got = calls(
        "i=0\nwhile [ $i -lt 3 ]; do echo $i; i=$(expr $i + 1); done\nuntil [ $i -eq 0 ]; do i=$(expr $i - 1); done\necho end $i\n",
    );
    assert_eq!(
        super::condition_tests::command_lines(&got),
        ["echo 0", "echo 1", "echo 2", "echo end 0"]
    );
    let (_, told) = calls_and_told("while frobnicate; do mkdir /x; done\n");
    assert_eq!(told, [("frobnicate".to_owned(), vec!["mkdir /x".to_owned()])]);
}

/// The calls of a maintainer script's walk (dpkg's clean environment: unset variables are
/// empty) with `. FILE` reading `library`.
fn calls_sourcing(library: &str, script: &str) -> Vec<Result<Vec<String>, String>> {
    let source = |_: &str| Some(library.to_owned());
    let nodes = parse(script).unwrap();
    let mut seen = Vec::new();
    let mut cb = |c: Call<'_>| seen.push(c.argv);
    Eval::new(&["configure", ""], &mut cb)
        .with_source(&source)
        .with_package("p", "amd64", "postinst", "amd64")
        .run_script(&nodes)
        .unwrap();
    seen
}

#[test]
fn a_sourced_library_s_top_level_code_hides_only_what_it_assigns() {
    // debconf's confmodule: a top-level `if` the walk does not run (it execs the frontend).
    // Before, it made every unset variable unknown: clamav-daemon's postinst then wrote
    // `[ -n "$AlertBrokenExecutables" ] && echo …` lines it never writes.
    let confmodule = "if [ ! \"${DEBIAN_HAS_FRONTEND:-}\" ]; then\n PERL_DL_NONLAZY=1\n \
                      export PERL_DL_NONLAZY\n exec /usr/share/debconf/frontend $0 \"$@\"\nfi\n\
                      if [ -z \"${DEBCONF_REDIR:-}\" ]; then exec 3>&1; DEBCONF_REDIR=1; export DEBCONF_REDIR; fi\n\
                      f() { echo hi; }\n";
    let script = ". /lib/c\n[ -n \"$X\" ] && echo \"X $X\"\necho \"redir $DEBCONF_REDIR\"\nf\n";
    assert_eq!(
        calls_sourcing(confmodule, script),
        vec![
            Err("$DEBCONF_REDIR may be set by /lib/c".to_owned()),
            Ok(vec!["echo".to_owned(), "hi".to_owned()])
        ]
    );
    // Top-level code not walked (it execs) whose names cannot be read (an eval, a name from
    // an expansion) still leaves every unset variable unknown.
    for library in [
        "if true; then eval \"$1=x\"; exec 3>&1; fi\n",
        "for v in a b; do read \"$v\"; exec 4>&1; done\n",
    ] {
        let seen = calls_sourcing(library, ". /lib/c\necho \"X $X\"\n");
        assert!(matches!(seen.as_slice(), [Err(_)]), "{library:?}: {seen:?}");
    }
}

/// Top-level code without `exec` in a sourced file is walked as the shell runs it, a top-level
/// `return` ending the file (apache2-maintscript-helper's guard against a second sourcing and
/// its deferral check), and what it assigns is known after it.
#[test]
fn a_sourced_file_s_top_level_code_without_exec_is_walked() {
    let helper = "if [ -n \"${GUARD:-}\" ]; then\n  return\nelse\n  GUARD=1\n  DEFER=\n  \
                  if ! true; then DEFER=/var/lib/x; fi\n  COUNT=\"${COUNT:-0}1\"\nfi\nf() { echo \"in f $DEFER\"; }\n";
    let script = ". /lib/c\n. /lib/c\necho \"defer [$DEFER] count $COUNT\"\nf\necho after\n";
    let echo = |s: &str| Ok(vec!["echo".to_owned(), s.to_owned()]);
    assert_eq!(
        calls_sourcing(helper, script),
        [echo("defer [] count 01"), echo("in f "), echo("after")]
    );
}

#[test]
fn export_readonly_and_local_assign() {
    let seen = calls_sourcing(
        "",
        "export A=1 B\nreadonly C=\"$A-2\"\nlocal D=$C\nexport -p\necho \"$A $B $C $D\"\n\
         B=b; export B; echo \"$B\"\nexport \"$EMPTY\"=3\necho \"[$E]\"\n",
    );
    let echo = |s: &str| Ok(vec!["echo".to_owned(), s.to_owned()]);
    assert_eq!(seen, [echo("1  1-2 1-2"), echo("b"), echo("[]")]);
    // A name the walk cannot read may be any variable: unset ones are no longer empty.
    let seen = calls_sourcing(
        "",
        "for v in $(cat /etc/x.conf); do export \"$v\"=true; done\necho \"[$Z]\"\n",
    );
    assert!(matches!(seen.last(), Some(Err(_))), "{seen:?}");
}

#[test]
fn assigned_names_reads_what_a_list_may_assign() {
    let names = |src: &str| {
        super::ast::assigned_names(&parse(src).unwrap()).map(|n| n.into_iter().collect::<Vec<_>>())
    };
    let v = |n: &[&str]| Some(n.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        names(
            "if [ x ]; then A=1; export B C=2; fi\nfor i in 1; do read -r L; done\n: ${D:=4}\ngetopts ab O\n"
        ),
        v(&["A", "B", "C", "D", "L", "O", "OPTARG", "OPTIND", "i"])
    );
    // Subshells, pipelines' stages, substitutions and function bodies assign nothing here.
    assert_eq!(
        names("(X=1)\necho a | read Y\nZ=$(W=1)\nf() { V=1; }\n"),
        v(&["Z"])
    );
    assert_eq!(names("eval \"$x=1\"\n"), None);
    assert_eq!(names("if true; then . /lib/x; fi\n"), None);
    assert_eq!(names("export \"$n\"=1\n"), None);
    assert_eq!(names("$cmd x\n"), None);
}

#[test]
fn a_failing_debconf_command_takes_the_or_branch() {
    // debconf fails (status 10) for a question no template defines.
    let debconf = |argv: &[String]| {
        (argv[0] == "db_get").then(|| DebconfReply {
            ret: Value::Known(format!("10 {} doesn't exist", argv[1])),
            ok: false,
        })
    };
    let nodes = parse(
        "db_get p/missing || RET=\"\"\necho \"[$RET]\"\nif db_get p/x; then echo yes; else echo no; fi\n",
    )
    .unwrap();
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| out.push(c.argv);
    Eval::new(&["configure", ""], &mut cb)
        .with_debconf(&debconf)
        .run(&nodes);
    assert_eq!(out, [Ok(argv_of("echo []")), Ok(argv_of("echo no"))]);
}

#[test]
fn a_function_s_status_is_its_last_command_s() {
    // clamav-daemon's is_true: `[ … ] || [ … ]; return $?` (it was guessed true, and
    // StructuredDataDetection=false wrote the Structured* lines).
    let script = "to_lower() { lcword=$(echo \"$1\" | tr A-Z a-z); echo \"$lcword\"; }\n\
                  is_true() {\n  lcvar=$(to_lower \"$1\")\n  [ 'true' = \"$lcvar\" ] || [ 'yes' = \"$lcvar\" ]\n  return $?\n}\n\
                  is_false() { [ \"$1\" = no ]; }\n\
                  bare() { test -n \"$1\"; return; }\n\
                  for v in FaLse True; do if is_true \"$v\"; then echo \"T $v\"; else echo \"F $v\"; fi; done\n\
                  if is_false no; then echo no-is-false; fi\n\
                  if is_false yes; then echo yes-is-false; fi\n\
                  bare x && echo bare-x\nbare '' || echo bare-empty\n\
                  true; echo \"status $?\"\n";
    let (calls, told) = calls_and_told(script);
    let echo = |s: &str| Ok(vec!["echo".to_owned(), s.to_owned()]);
    let echoes: Vec<_> = calls
        .into_iter()
        .filter(|c| matches!(c, Ok(argv) if argv[0] == "echo"))
        .collect();
    assert_eq!(
        echoes,
        [
            echo("F FaLse"),
            echo("T True"),
            echo("no-is-false"),
            echo("bare-x"),
            echo("bare-empty"),
            echo("status 0"),
        ]
    );
    assert!(told.is_empty(), "{told:?}");
    // A failure's code is not known: `$?` after one stays unknown.
    let (calls, _) = calls_and_told("false; echo \"status $?\"\n");
    assert!(matches!(calls.as_slice(), [Ok(_), Err(_)]), "{calls:?}");
}

#[test]
fn a_case_on_an_unknown_word_tells_its_arms() {
    // tex-common's update-fmtutil: `TEMP=$(getopt …); case $? in 0) : ;; *) exit 1 ;; esac`.
    let (calls, told) = calls_and_told("case $(frob) in\n a) mkdir /a ;;\n *) rm /b ;;\nesac\nmkdir /c\n");
    assert_eq!(calls.last(), Some(&Ok(argv_of("mkdir /c"))), "{calls:?}");
    assert!(
        !calls.contains(&Ok(argv_of("mkdir /a"))),
        "no arm runs: {calls:?}"
    );
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].0.starts_with("case ") && told[0].0.contains("frob"),
        "{told:?}"
    );
    assert_eq!(told[0].1, ["mkdir /a", "rm /b"]);
}

#[test]
fn a_failure_exit_the_walk_reaches_tells_what_follows() {
    // dpkg's run succeeded, so it never came here: what follows is told, not dropped.
    let script = "f() { mkdir /f; }\nif [ \"$1\" = configure ]; then\n echo \"bad option\"\n exit 1\nfi\nf\nmkdir /after\n";
    let (calls, told) = calls_and_told(script);
    assert_eq!(calls, [Ok(vec!["echo".to_owned(), "bad option".to_owned()])]);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(super::as_failure_exit(&told[0].0), Some("exit 1"));
    assert_eq!(told[0].1, ["f", "mkdir /after"]);
    // `exit 0`, a bare `exit` and the end of the script tell nothing.
    for script in [
        "mkdir /a\nexit 0\nmkdir /b\n",
        "mkdir /a\nexit\nmkdir /b\n",
        "exit 0\n",
    ] {
        let (_, told) = calls_and_told(script);
        assert!(told.is_empty(), "{script:?}: {told:?}");
    }
    // So is `shift` past the end of the arguments (sh stops there).
    let (_, told) = calls_and_told("set -- a\nshift 2\nmkdir /b\n");
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(super::as_failure_exit(&told[0].0), Some("shift 2"));
    // An exit status the walk does not know may be a failure.
    let (_, told) = calls_and_told("exit $(frob)\nmkdir /b\n");
    assert_eq!(told.len(), 1, "{told:?}");
}

#[test]
fn special_parameters_are_never_empty_unset_variables() {
    // In dpkg's clean environment an unset variable is empty, but `$?` after a command whose
    // status is not known is not: `case $? in 0) ;; *) exit 1 ;; esac` (update-fmtutil after
    // getopt) took the failure arm and the helper's files were lost.
    for word in ["$?", "$$", "$!", "$-"] {
        let seen = calls_sourcing("", &format!("x=$(frob)\necho \"[{word}]\"\n"));
        assert!(matches!(seen.as_slice(), [Err(_)]), "{word}: {seen:?}");
    }
}

#[test]
fn arithmetic_expansion_drives_a_debconf_state_machine() {
    // keyboard-configuration's config: `STATE=$(($STATE + 1))` until `*) break`.
    let script = "STATE=1\nold_state=0\nwhile :; do\n starting_state=$STATE\n case \"$STATE\" in\n  1) echo one; STATE=$(($STATE + 1)) ;;\n  2) echo two; STATE=$(( $STATE + $STATE - $old_state )) ;;\n  *) break ;;\n esac\n old_state=$starting_state\ndone\n\
                  echo \"end $STATE $((STATE * 2)) $((x = 7)) $x $((010 + 0x10))\"\n\
                  n=$((1 / 0))\necho \"$n\"\n";
    let (calls, told) = calls_and_told(script);
    assert_eq!(
        &calls[..3],
        [
            Ok(argv_of("echo one")),
            Ok(argv_of("echo two")),
            Ok(vec!["echo".to_owned(), "end 3 6 7 7 24".to_owned()])
        ]
    );
    // What dash refuses is not known (dash stops the script there).
    assert!(
        matches!(&calls[3], Err(why) if why.contains("division by zero")),
        "{calls:?}"
    );
    assert!(told.is_empty(), "{told:?}");
    assert_eq!(
        super::ast::assigned_names(&parse(": $((i += 1))\n").unwrap()),
        None,
        "an arithmetic assignment's name is not read"
    );
    for expr in ["x <<= 1", "x >>= 1", "x = 1", "x |= 1"] {
        let script = format!(": $(({expr}))\n");
        assert_eq!(
            super::ast::assigned_names(&parse(&script).unwrap()),
            None,
            "{expr}"
        );
    }
    for expr in ["x == 1", "x != 1", "x <= 1", "x >= 1", "x << 1"] {
        let script = format!(": $(({expr}))\n");
        assert!(
            super::ast::assigned_names(&parse(&script).unwrap()).is_some(),
            "{expr}"
        );
    }
}

#[test]
fn an_answer_set_on_a_guessed_path_is_not_known() {
    let answers = std::cell::RefCell::new(Vec::new());
    let debconf = |argv: &[String]| {
        answers.borrow_mut().push(argv.to_vec());
        Some(DebconfReply::ok(Value::Known(String::new())))
    };
    let nodes = parse("db_set p/a known\nif [ \"$(frob)\" = C ]; then db_set p/b guessed; fi\n").unwrap();
    let mut cb = |_: Call<'_>| {};
    Eval::new(&["configure", ""], &mut cb)
        .with_debconf(&debconf)
        .run(&nodes);
    let answers = answers.into_inner();
    assert_eq!(answers[0], ["db_set", "p/a", "known"]);
    assert_eq!(answers[1], ["db_set", "p/b", UNKNOWN_ARG]);
}

#[test]
fn what_a_guess_may_have_assigned_is_not_known_after_it() {
    // console-setup's config: `if [ "$locale" = C ]; then CHARMAP=ISO-8859-15; …` with the
    // locale not known stored the guessed CHARMAP, which its postinst wrote as known.
    let script = "locale=$(frob)\nif [ \"$locale\" = C ]; then CHARMAP=ISO; elif [ \"$locale\" = x ]; then OTHER=1; else CHARMAP=UTF; fi\n\
                  echo \"[$CHARMAP]\"\necho \"[$OTHER]\"\n\
                  case \"$locale\" in a) A=1 ;; esac\necho \"[$A]\"\n\
                  [ -n \"$locale\" ] && B=1\necho \"[$B]\"\n\
                  C=1\n[ -n \"$locale\" ] || C=2\necho \"[$C]\"\n\
                  K=1\nif [ -d /nonexistent-in-a-walk-without-files ]; then K=2; fi\necho \"[$K]\"\n";
    let (calls, _) = calls_and_told(script);
    let forgotten: Vec<&str> = calls
        .iter()
        .filter_map(|c| match c {
            Err(why) if why.contains("could not tell") => why.split(' ').next(),
            _ => None,
        })
        .collect();
    // K too: without an image the walk cannot decide `[ -d … ]` either.
    assert_eq!(
        forgotten,
        ["$CHARMAP", "$OTHER", "$A", "$B", "$C", "$K"],
        "{calls:?}"
    );
}

/// exim4-config's config holds Latin-1 bytes in sed expressions: read lossily, those bytes
/// become U+FFFD, and any text holding one is not known (its real bytes are not), while the
/// rest of the script is walked as usual.
#[test]
fn text_that_was_not_utf8_is_not_known() {
    let raw = b"#!/bin/sh\nX=$(echo a | sed -e 's/a/\xf6/')\necho 'a\xf6b' \"$X\"\ncat > /etc/x <<EOF\n\xf6\nEOF\necho ok\n";
    let text = String::from_utf8_lossy(raw);
    let nodes = parse(&text).unwrap();
    let calls = std::cell::RefCell::new(Vec::new());
    let mut cb = |c: Call<'_>| calls.borrow_mut().push((c.argv.clone(), c.heredoc.clone()));
    Eval::new(&["configure", ""], &mut cb).run(&nodes);
    let calls = calls.into_inner();
    let echo_unknown = calls
        .iter()
        .find(|(argv, _)| argv.is_err())
        .expect("the echo of unknown text");
    assert!(
        echo_unknown.0.as_ref().unwrap_err().contains("not UTF-8"),
        "{calls:?}"
    );
    assert!(
        calls
            .iter()
            .any(|(argv, heredoc)| argv.as_ref().is_ok_and(|a| a[0] == "cat") && heredoc == &Some(None)),
        "the here-document's text is not known: {calls:?}"
    );
    assert_eq!(
        calls.last().map(|c| c.0.clone()),
        Some(Ok(vec!["echo".to_owned(), "ok".to_owned()]))
    );
}

/// What the walk's `say ARGS…` calls say (arguments joined), and what the host's dash prints
/// for the same script with `say` printing its arguments (`None` without dash).
fn said_by_walk_and_dash(script: &str) -> (Vec<String>, Option<Vec<String>>) {
    said_by(script, false)
}

/// [`said_by_walk_and_dash`], the script walked as a maintainer script (`in_script_environment`:
/// `with_package`) and dash run in the build's environment alone, or as the tests are.
fn said_by(script: &str, in_script_environment: bool) -> (Vec<String>, Option<Vec<String>>) {
    let nodes = parse(script).unwrap();
    let mut walked = Vec::new();
    let mut cb = |c: Call<'_>| {
        if let Ok(argv) = c.argv
            && argv.first().is_some_and(|a| a == "say")
        {
            walked.push(argv[1..].join(" "));
        }
    };
    let mut eval = Eval::new(&["configure", ""], &mut cb);
    if in_script_environment {
        eval = eval.with_package("p", "amd64", "postinst", "amd64");
    }
    eval.run(&nodes);
    let host_tool = super::super::testutil::host_tool;
    let locale = !in_script_environment || host_tool("locale").is_some();
    let host = host_tool("dash").filter(|_| locale).map(|dash| {
        let mut command = std::process::Command::new(dash);
        if in_script_environment {
            command
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .envs(eval::SCRIPT_ENVIRONMENT.iter().copied());
        }
        let out = command
            .arg("-c")
            .arg(format!("say() {{ printf '%s\\n' \"$*\"; }}\n{script}"))
            .output()
            .expect("dash runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    });
    (walked, host)
}

/// Asserts the walk's `say` lines are `expected`, and that the host's dash (where there is one)
/// says the same.
fn said_as_dash_says(script: &str, expected: &[&str]) {
    let (walked, host) = said_by_walk_and_dash(script);
    assert_eq!(walked, expected);
    if let Some(host) = host {
        assert_eq!(walked, host, "dash printed {host:?}");
    }
}

/// `local` inside a function: what the caller had is its again when the function returns
/// (samba-common's `configure_smb_conf` declares `local CONFIG`), through nested calls and
/// dash's `local NAME` without a value (which keeps the value). Checked against the host's dash.
#[test]
fn local_variables_are_restored_when_the_function_returns() {
    let script = "CONFIG=/etc/x.conf\nunset GONE\n\
                  inner() { local CONFIG=inner GONE=set; say in \"$CONFIG\" \"$GONE\"; }\n\
                  outer() {\n local CONFIG\n say kept \"$CONFIG\"\n CONFIG=\"$1\"\n inner\n say back \"$CONFIG\" \"$GONE\"\n}\n\
                  outer /run/new.conf\nsay after \"$CONFIG\" \"${GONE-unset}\"\n";
    let (walked, host) = said_by_walk_and_dash(script);
    assert_eq!(
        walked,
        [
            "kept /etc/x.conf",
            "in inner set",
            "back /run/new.conf ",
            "after /etc/x.conf unset"
        ]
    );
    if let Some(host) = host {
        assert_eq!(walked, host, "dash printed {host:?}");
    }
}

/// Backquotes: `\\`, `` \` `` and `\$` inside stand for the character (sh reads the command
/// from that text), and the closing backquote is the first not escaped: samba-common's
/// workgroup escaping, `` `echo $W | sed -e's/\\\\/\\\\\\\\/g …'` ``, gives what dash gives.
#[test]
fn backquotes_read_their_escapes_as_sh_does() {
    let script = "W='A\\B/C&D$E'\nW=`echo \"$W\" | \\\n\tsed -e's/\\\\\\\\/\\\\\\\\\\\\\\\\/g\n\t   s#/#\\\\\\\\/#g\n\t   s/&/\\\\\\&/g\n\t   s/\\\\\\$/\\\\\\\\\\\\\\$/g'`\n\
                  say \"$W\"\nsay `echo \\`echo inner\\``\n";
    said_as_dash_says(script, &["A\\\\B\\/C\\&D\\$E", "inner"]);
}

/// A function whose last command is compound returns that command's status, as the shell does:
/// dbconfig-common's `_dbc_sanity_check` ends with a `while` loop over its arguments, and its
/// caller `if ! _dbc_sanity_check package command` was undecided, so the global configuration
/// was not written.
#[test]
fn a_function_ending_in_a_compound_command_returns_its_status() {
    let script = "check() {\n while [ $# -ne 0 ]; do\n  case \"$1\" in\n   package) if [ -z \"$pkg\" ]; then return 1; fi ;;\n   *) return 1 ;;\n  esac\n  shift\n done\n}\n\
                  ends_in_if() { if [ \"$1\" = no ]; then return 1; fi; }\n\
                  ends_in_for() { for x in a b; do [ $x = b ]; done; }\n\
                  ends_in_case() { case $1 in a) false ;; esac; }\n\
                  pkg=dbc\n\
                  if check package package; then echo checked; fi\n\
                  if ! check other; then echo refused; fi\n\
                  if ends_in_if yes; then echo if-yes; fi\n\
                  if ends_in_if no; then echo if-no; fi\n\
                  if ends_in_for; then echo for-last; fi\n\
                  if ends_in_case b; then echo case-none; fi\n\
                  if ends_in_case a; then echo case-a; fi\n";
    let (calls, told) = calls_and_told(script);
    let echoed = first_echo_words(calls);
    assert_eq!(echoed, ["checked", "refused", "if-yes", "for-last", "case-none"]);
    assert!(told.is_empty(), "nothing was left undecided: {told:?}");
}

/// `IFS` splits fields as POSIX says (cups' postinst: `IFS=,` then `for module in $list`), is
/// restored from a saved copy, and is what `read` splits a line with (`IFS=: read`).
#[test]
fn field_splitting_and_read_follow_ifs() {
    let script = "list=lpd,socket,,usb\nsave_IFS=$IFS\nIFS=,\nfor m in $list; do echo \"m=$m\"; done\n\
                  IFS=$save_IFS\nfor m in a\\ b; do echo \"n=$m\"; done\nv='c d'\nfor m in $v; do echo \"o=$m\"; done\n\
                  IFS=', '\nw='x, y ,z'\nfor m in $w; do echo \"p=$m\"; done\nIFS=$save_IFS\n\
                  while IFS=: read user pass rest; do echo \"u=$user\" \"r=$rest\"; done <<EOF\nroot:x:0:0:root\n daemon : * :1\nEOF\n";
    let echoed: Vec<Vec<String>> = calls(script)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|argv| argv[0] == "echo")
        .map(|argv| argv[1..].to_vec())
        .collect();
    let expected: Vec<Vec<&str>> = vec![
        vec!["m=lpd"],
        vec!["m=socket"],
        vec!["m="],
        vec!["m=usb"],
        vec!["n=a b"],
        vec!["o=c"],
        vec!["o=d"],
        vec!["p=x"],
        vec!["p=y"],
        vec!["p=z"],
        vec!["u=root", "r=0:0:root"],
        vec!["u= daemon ", "r=1"],
    ];
    assert_eq!(echoed, expected);
}

/// A `case` pattern is expanded (tripwire's `case "$pass_phrase_1" in "$pass_phrase_2") break`
/// ended its loop only there): quoted, its value matches itself; unquoted, it is a pattern; not
/// known, no arm from there on is known to run.
#[test]
fn case_patterns_are_expanded() {
    let script = "a=x; b=x; star='*'\n\
                  while true; do case \"$a\" in \"$b\") break ;; esac; done; echo looped-out\n\
                  case '*' in \"$star\") echo quoted-star ;; esac\n\
                  case abc in \"$star\") echo wrong ;; $star) echo unquoted-star ;; esac\n\
                  case abc in $(unknown-command)) echo unknown ;; abc) echo after ;; esac\n";
    let (calls, told) = calls_and_told(script);
    let echoed = first_echo_words(calls);
    assert_eq!(echoed, ["looped-out", "quoted-star", "unquoted-star"]);
    assert!(
        told.iter()
            .any(|(cond, unwalked)| cond == "case abc in" && unwalked.iter().any(|c| c.contains("after"))),
        "{told:?}"
    );
}

/// What the walk's `say ARGS…` calls say in a maintainer script, and what the host's dash prints
/// for it in the build's environment and nothing else (`None` without dash or locale); each
/// as the lines joined.
fn said_in_the_script_environment(script: &str) -> (String, Option<String>) {
    let (walked, host) = said_by(script, true);
    (
        walked.join("\n"),
        host.map(|lines| lines.join("\n").trim_end().to_owned()),
    )
}

/// A maintainer script runs in the build's fixed environment ([`eval::SCRIPT_ENVIRONMENT`]: the
/// noninteractive frontend, the C.UTF-8 locale), and `locale` answers from it as glibc does:
/// keyboard-configuration's config runs `eval \`locale\`` and picks its default layout from
/// `LC_CTYPE`. A category set by its own variable prints unquoted; with no locale set the
/// charmap is ASCII's. Checked against the host's dash and locale in the same environment.
#[test]
fn scripts_run_in_the_builds_locale_and_locale_answers_from_it() {
    let script = "eval `locale`\nsay \"$LANG|$LANGUAGE|$LC_CTYPE|$LC_MESSAGES|$LC_ALL|$DEBIAN_FRONTEND\"\n\
                  say \"$(locale charmap)\"\n";
    let (walked, host) = said_in_the_script_environment(script);
    assert_eq!(
        walked,
        "C.UTF-8|C.UTF-8|C.UTF-8|C.UTF-8|C.UTF-8|noninteractive\nUTF-8"
    );
    if let Some(host) = host {
        assert_eq!(walked, host, "the host's dash printed {host:?}");
    }
    let script = "LC_ALL=\nLC_TIME=C\nexport LC_ALL LC_TIME\nsay \"$(locale)\"\nsay \"$(locale charmap)\"\n\
                  LANG=\nexport LANG\nsay \"$(locale charmap)\"\n";
    let (walked, host) = said_in_the_script_environment(script);
    assert!(
        walked.contains("\nLC_TIME=C\n") && walked.contains("\nLC_CTYPE=\"C.UTF-8\"\n"),
        "{walked}"
    );
    assert!(walked.ends_with("\nLC_ALL=\nUTF-8\nANSI_X3.4-1968"), "{walked}");
    if let Some(host) = host {
        assert_eq!(walked, host, "the host's dash printed {host:?}");
    }
}

/// An assignment's status is its last command substitution's, as POSIX has it: the walk knows
/// it where it knows what the substitution's commands printed (grep selected nothing: 1; a text
/// filter: 0), so `! kbdnames="$(… | iconv …)"` decides its branch instead of guessing it.
/// Checked against the host's dash.
#[test]
fn an_assignments_status_is_its_substitutions() {
    let script = "if x=\"$(echo a | sed s/a/b/)\"; then say ok1 \"$x\"; fi\n\
                  if ! x=\"$(echo a)\"; then say wrong2; else say ok2; fi\n\
                  if y=$(echo abc | grep z); then say wrong3; else say ok3 \"[$y]\"; fi\n\
                  ! z=$(printf 'a\\nb\\n' | grep b) || say ok4 \"$z\"\n\
                  w=plain && say ok5\n\
                  if v=$(echo a) u=$(echo b | grep c); then say wrong6; else say ok6; fi\n";
    said_as_dash_says(script, &["ok1 b", "ok2", "ok3 []", "ok4 b", "ok5", "ok6"]);
}

/// A function of the script's own takes the place of the command of that name inside `$(…)`
/// too: keyboard-configuration's config defines `which` as a walk over `$PATH`, and
/// `arch=$(guess_arch)` asks it whether `archdetect` exists. Checked against the host's dash.
#[test]
fn a_script_function_shadows_a_command_inside_a_substitution() {
    let script = "which() { return 1; }\necho() { printf '<%s>\\n' \"$*\"; }\n\
                  x=$(if which sh >/dev/null; then printf y; else printf n; fi)\nsay \"$x\"\n\
                  say \"$(echo a b)\"\n";
    said_as_dash_says(script, &["n", "<a b>"]);
}

/// `alias NAME=VALUE` makes NAME run VALUE with the words after it (exim4-config's
/// `stripwhitespace` inside `$(…)`); an alias reading positional parameters is not taken (it
/// would read the caller's), and is reported. Checked against the host's dash.
#[test]
fn an_alias_of_a_plain_command_runs_it_with_the_words_after() {
    let script = "alias strip=\"sed -e 's/^[[:blank:]]*//' -e 's/[[:blank:]]*$//'\" up='tr a-z A-Z'\n\
                  x=\"$(printf '%s\\n' '  a b  ' | strip)\"\nsay \"[$x]\"\n\
                  f() { printf '%s\\n' \"$1\" | up; }\nsay \"$(f abc)\"\n";
    said_as_dash_says(script, &["[a b]", "ABC"]);
    let refused = calls("alias first='echo $1'\nfirst x\n");
    assert!(
        refused
            .iter()
            .any(|c| matches!(c, Ok(argv) if argv[0] == "alias")),
        "{refused:?}"
    );
}

/// `"$@"` with no positional parameters is no field at all, in a word of its own or beside
/// others (a function called without arguments passing `"$@"` on to `sed`); empty quotes
/// beside an unquoted `$@` still make one. Checked against the host's dash.
#[test]
fn quoted_at_without_parameters_is_no_field() {
    let script = "set --\ncount() { say \"$#\"; }\ncount \"$@\"\ncount x \"$@\" y\ncount \"\"$@\"\"\n\
                  f() { count \"$@\"; }\nf\nf a b\n";
    said_as_dash_says(script, &["0", "2", "1", "0", "2"]);
}

/// A command substitution reads the input of the command it is part of: exim4's
/// `check_ascii_pipe` is `IN="$(cat)"` in a function a pipeline feeds; one in a command's
/// arguments leaves that command its input (keyboard-configuration's pipelines). Checked
/// against the host's dash.
#[test]
fn a_substitution_reads_the_input_its_command_is_fed() {
    let script = "up() { IN=\"$(cat)\"; OUT=\"$(echo $IN | tr a-z A-Z)\"; echo \"$OUT\"; }\n\
                  x=$(echo abc | up)\nsay \"$x\"\nsay \"$(printf 'a b\\n' | up)\"\n\
                  say \"$(printf 'a\\nb\\n' | grep \"$(echo b)\")\"\n";
    said_as_dash_says(script, &["ABC", "A B", "b"]);
}

/// Special parameters in braces, `${@}`, `${*}`, `${#}`, `${?}`, expand as their plain forms
/// (exim4's update-exim4.conf runs `lowercase ${@}`). Checked against the host's dash.
#[test]
fn special_parameters_in_braces_expand_as_plain_ones() {
    let script = "set -- a 'b c'\nsay ${@}\nsay \"${@}\" \"${#}\"\nsay \"${*}\"\nsay \"${@:-none}\"\ntrue\nsay \"${?}\"\n\
                  f() { say \"[${@}]\" \"${#}\"; }\nf\n";
    said_as_dash_says(script, &["a b c", "a b c 2", "a b c", "a b c", "0", "[] 0"]);
}

/// The word of `${X:-…}` and `${X:+…}` keeps its blanks and `<`, `>` as text (mdadm's mkconf:
/// `${DEVICE:-partitions containers}`, `${HOMEHOST:-<system>}`), in a here-document, in double
/// quotes (one field) and unquoted (split into fields, as sh does).
#[test]
fn defaults_keep_their_blanks_and_angle_brackets() {
    let nodes = parse(
        "X=\nY=\nZ=z\ncat <<_eof\n#D ${X:-partitions containers}\nH ${Y:-<system>}\nA ${Z:+-o a|b}\n_eof\n\
         echo \"${X:-a b}\" \"${Y:-<s>}\" ${X:-c d} \"${Z:+x; y}\"\n",
    )
    .unwrap();
    let mut out = Vec::new();
    let mut cb = |c: Call<'_>| out.push((c.argv.clone(), c.heredoc.clone()));
    Eval::new(&["configure", ""], &mut cb).run(&nodes);
    assert_eq!(
        out,
        [
            (
                Ok(vec!["cat".to_owned()]),
                Some(Some(
                    "#D partitions containers\nH <system>\nA -o a|b\n".to_owned()
                ))
            ),
            (
                Ok(["echo", "a b", "<s>", "c", "d", "x; y"]
                    .map(str::to_owned)
                    .to_vec()),
                None
            ),
        ]
    );
}

/// Only standard output is captured by `$(…)`: what a command inside sends to standard error or
/// /dev/null is not part of the value, and does not make it unknown.
#[test]
fn a_substitution_captures_standard_output_only() {
    let got = calls(
        "x=$(echo hidden >&2; echo shown)\nfoo \"$x\"\ny=$(>&2 echo a)\nbar \"$y\"\n\
         z=$(grep -q k /etc/f >/dev/null; echo v)\nbaz \"$z\"\n",
    );
    assert_eq!(
        got,
        vec![
            Ok(vec!["foo".into(), "shown".into()]),
            Ok(vec!["bar".into(), "".into()]),
            Ok(vec!["grep".into(), "-q".into(), "k".into(), "/etc/f".into()]),
            Ok(vec!["baz".into(), "v".into()]),
        ]
    );
    // `2>&1` sends standard error into the capture: `>&2` then prints there too, and what a
    // command not answered prints there is not known.
    let got = calls(
        "a=$( { echo a >&2; } 2>&1 )\nfoo \"$a\"\nf() { echo oops >&2; }\nb=$(f 2>&1)\nbar \"$b\"\n\
         c=$(echo c 2>&1 >&2)\nbaz \"$c\"\nd=$(tool 2>&1 >/dev/null)\nqux \"$d\"\ne=$(echo e >/dev/null)\nquux \"$e\"\n",
    );
    assert_eq!(
        got,
        vec![
            Ok(vec!["foo".into(), "a".into()]),
            Ok(vec!["bar".into(), "oops".into()]),
            Ok(vec!["baz".into(), "c".into()]),
            Ok(vec!["tool".into()]),
            Err("$(…) with output (a loop's, or standard error sent into it) that is not known".into()),
            Ok(vec!["quux".into(), "".into()]),
        ]
    );
}
