use super::*;

fn words(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The host's `tool` run with `args` on `input` in the C locale: what the tests cross-check.
fn host_run(tool: &std::path::Path, args: &[String], input: &str) -> std::process::Output {
    std::process::Command::new(tool)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(input.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap_or_else(|e| panic!("{} runs: {e}", tool.display()))
}

#[test]
fn echo_as_dash_and_as_bash() {
    assert_eq!(echo(&words(&["a", "b"]), false).unwrap(), "a b\n");
    assert_eq!(echo(&words(&["-n", "a"]), false).unwrap(), "a");
    // dash reads escapes always and no `-e`; bash only under `-e`.
    assert_eq!(echo(&words(&["a\\tb"]), false).unwrap(), "a\tb\n");
    assert_eq!(echo(&words(&["-e", "a"]), false).unwrap(), "-e a\n");
    assert_eq!(echo(&words(&["a\\tb"]), true).unwrap(), "a\\tb\n");
    assert_eq!(echo(&words(&["-e", "a\\tb\\c", "x"]), true).unwrap(), "a\tb");
    assert_eq!(echo(&words(&["\\0101"]), false).unwrap(), "A\n");
    assert!(is_bash("#!/bin/bash -e\n") && !is_bash("#!/bin/sh\n") && !is_bash("echo\n"));
}

#[test]
fn printf_reuses_its_format_and_refuses_what_it_does_not_know() {
    assert_eq!(
        printf("%s=%d\\n", &words(&["a", "1", "b", "2"])).unwrap(),
        "a=1\nb=2\n"
    );
    assert_eq!(printf("100%%\\101\\n", &[]).unwrap(), "100%A\n");
    assert_eq!(printf("[%b]", &words(&["x\\ty"])).unwrap(), "[x\ty]");
    assert_eq!(printf("%s\\n", &[]).unwrap(), "\n");
    assert!(printf("%5s", &words(&["a"])).is_err());
    assert!(printf("%x", &words(&["1"])).is_err());
}

fn edit(script: &str, extended: bool, text: &str) -> Result<String, String> {
    sed_text(text, &parse_script(script, extended)?, false).ok_or_else(|| "not ASCII".to_owned())
}

#[test]
fn basic_and_extended_expressions_edit_as_gnu_sed_does() {
    let conf = "#PermitRootLogin prohibit-password\n#PasswordAuthentication yes\nPort 22";
    assert_eq!(
        edit("s/^#*PermitRootLogin .*/PermitRootLogin yes/", false, conf).unwrap(),
        "PermitRootLogin yes\n#PasswordAuthentication yes\nPort 22"
    );
    // BRE: `\(…\)` groups, `\{n\}`, literal `+` and `(`; `&` and `\1` in the replacement.
    assert_eq!(
        edit(r"s/\(a\{2\}\)+(/[\1]&/g", false, "aa+(aa+(").unwrap(),
        "[aa]aa+([aa]aa+("
    );
    // GNU sed reads `\t` inside a list as a tab (lighttpd's postinst squeezes blanks so);
    // grep does not: there it is a backslash or a `t`. Both checked against the host's tools.
    assert_eq!(
        edit(r"s/[ \t]+/ /g", true, "index-file.names \t  = ( \"index.html\" )").unwrap(),
        "index-file.names = ( \"index.html\" )"
    );
    assert_eq!(grep_matches(&["grep".into(), r"[\t]".into()], "html"), Some(true));
    assert_eq!(
        grep_matches(&["grep".into(), r"[\t]".into()], "a\tb"),
        Some(false)
    );
    // egrep is `grep -E`, fgrep `grep -F`; `-i` ignores case (proftpd-core's `egrep -qi`).
    let argv = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let conf = "  include /etc/proftpd/modules.conf\n";
    assert_eq!(
        grep_matches(&argv(&["egrep", "-qi", "^[[:space:]]*Include.*modules"]), conf),
        Some(true)
    );
    assert_eq!(
        grep_matches(&argv(&["egrep", "-q", "^[[:space:]]*Include.*modules"]), conf),
        Some(false)
    );
    assert_eq!(grep_matches(&argv(&["fgrep", "-q", "a.c"]), "abc\n"), Some(false));
    // ERE: groups and `+` are operators, `\(` literal.
    assert_eq!(edit(r"s/(b+)\(/<\1>/", true, "xbbb(bb(").unwrap(), "x<bbb>bb(");
    // `*` first is literal; `$` inside is literal; classes and a delimiter escaped.
    assert_eq!(edit(r"s|*a$b|\|x|", false, "*a$b*a$b").unwrap(), "|x*a$b");
    assert_eq!(
        edit("s/[[:space:]]\\+/ /g;s/ $//", false, "a \t b  \n").unwrap(),
        "a b\n"
    );
    // A backslash is literal inside brackets.
    assert_eq!(edit(r"s/[\]/X/g", false, r"a\b").unwrap(), "aXb");
    // Empty matches with `g`, as sed: between every character.
    assert_eq!(edit("s/x*/-/g", false, "abc").unwrap(), "-a-b-c-");
    assert_eq!(edit("s/A/b/I", false, "aA").unwrap(), "bA");
}

/// Addresses, ranges, negation and the `d`/`p` commands; every expected text is what the host's
/// GNU sed 4.9 printed for the same script and input.
#[test]
fn addresses_select_lines_as_gnu_sed_does() {
    let input = "one\n  ## admin\n  ##   user\nx\n  ##   user\nlast";
    for (script, expected) in [
        // ejabberd's postinst: only the first `##   user` line.
        (
            "0,/  ##   user/s/  ##   user/     user/",
            "one\n  ## admin\n     user\nx\n  ##   user\nlast",
        ),
        ("2,3d", "one\nx\n  ##   user\nlast"),
        ("/admin/,/user/d", "one\nx\n  ##   user\nlast"),
        (
            "/x/,$s/^/>/",
            "one\n  ## admin\n  ##   user\n>x\n>  ##   user\n>last",
        ),
        ("$d", "one\n  ## admin\n  ##   user\nx\n  ##   user\n"),
        ("2!d", "  ## admin\n"),
        ("/ADMIN/Id", "one\n  ##   user\nx\n  ##   user\nlast"),
        (
            "1,+2s/^/+/",
            "+one\n+  ## admin\n+  ##   user\nx\n  ##   user\nlast",
        ),
        // An end line before the start: the start line alone.
        ("3,1s/^/-/", "one\n  ## admin\n-  ##   user\nx\n  ##   user\nlast"),
        (
            "/user/p",
            "one\n  ## admin\n  ##   user\n  ##   user\nx\n  ##   user\n  ##   user\nlast",
        ),
        (
            "\\|##|s|#|=|g",
            "one\n  == admin\n  ==   user\nx\n  ==   user\nlast",
        ),
        (
            "2,/user/!s/$/;/",
            "one;\n  ## admin\n  ##   user\nx;\n  ##   user;\nlast;",
        ),
        // A range is only looked at on the lines its command is reached on.
        (
            "/x/d;1,/user/s/u/U/",
            "one\n  ## admin\n  ##   User\n  ##   user\nlast",
        ),
        // A last line without its newline gets one when more is printed after it.
        ("$p", "one\n  ## admin\n  ##   user\nx\n  ##   user\nlast\nlast"),
    ] {
        assert_eq!(edit(script, false, input).unwrap(), expected, "sed '{script}'");
    }
    // `0,/RE/` looks for its end on line 1 already; `1,/RE/` from line 2 on.
    assert_eq!(
        edit("0,/user/s/u/U/", false, "user\nuser\nuser\n").unwrap(),
        "User\nuser\nuser\n"
    );
    assert_eq!(
        edit("1,/user/s/u/U/", false, "user\nuser\nuser\n").unwrap(),
        "User\nUser\nuser\n"
    );
    // A numbered end line the command was not reached on closes the range on the next line,
    // which is not selected.
    assert_eq!(edit("2d;1,2s/^/x/", false, "a\nb\nc\nd\n").unwrap(), "xa\nc\nd\n");
    assert_eq!(
        sed_text("a\nb\nc\n", &parse_script("2d;1,2!p", false).unwrap(), true).as_deref(),
        Some("c\n")
    );
    // nslcd's postinst: a range, a blank, then the command with its `i` flag.
    assert_eq!(
        edit("1,/^_uri_ / s|^_uri_ .*$|uri X|i", false, "_uri_ a\nfoo\n").unwrap(),
        "uri X\nfoo\n"
    );
}

/// GNU sed's case conversion in replacements (ejabberd's config lowers a host name with
/// `s/\(.*\)/\L\1/`); expected texts printed by the host's GNU sed 4.9.
#[test]
fn case_conversion_in_replacements_as_gnu_sed() {
    for (script, input, expected) in [
        (r"s/\(.*\)/\L\1/", "OnE.TwO", "one.two"),
        (r"s/\(.*\)/\U\1/", "OnE.TwO", "ONE.TWO"),
        (r"s/\(.*\)/\U\l\1/", "OnE.TwO", "oNE.TWO"),
        (r"s/\(..\)\(.*\)/\U\1\E\2/", "OnE.TwO", "ONE.TwO"),
        (r"s/.*/\L\u&/", "OnE.TwO", "One.two"),
        (r"s/.*/x\u&/", "OnE.TwO", "xOnE.TwO"),
        // A span change cancels a pending one-character change; an empty group passes it on.
        (r"s/.*/\u\L&/", "one.two", "one.two"),
        (r"s/.*/\u\E&/", "one.two", "one.two"),
        (r"s/\(x*\)\(.*\)/\u\1\2/", "one.two", "One.two"),
    ] {
        assert_eq!(edit(script, false, input).unwrap(), expected, "sed '{script}'");
    }
    // Outside ASCII the locale decides (`É` or two bytes left as they are): refused.
    assert!(edit(r"s/.*/\U&/", false, "été").is_err());
    assert_eq!(edit(r"s/t/\U&/", false, "été").unwrap(), "éTé");
}

#[test]
fn what_cannot_be_kept_exact_is_refused() {
    for (script, ext) in [
        (r"s/\(a\)\1/x/", false),
        // Alternatives where the longest and the first match can differ.
        (r"s/a\|ab/x/", false),
        ("s/a|ab/x/", true),
        ("s/(a|b*)c/x/", true),
        ("s/a/x/2", false),
        ("/a/x", false),
        ("1~2s/a/b/", false),
        // A block with a command inside it not reproduced.
        ("/a/{x}", false),
        ("//d", false),
        ("0s/a/b/", false),
        // An escaped delimiter that is special keeps its meaning in GNU sed.
        ("s.a\\.b.X.", false),
        ("\\.a\\.b.p", false),
        ("0,5d", false),
        ("$!N", false),
        ("s/a/b", false),
    ] {
        assert!(parse_script(script, ext).is_err(), "{script} should be refused");
    }
}

#[test]
fn filters_read_their_input_as_the_tools_do() {
    let input = "/usr/share/man/man1/a.1.gz\n/usr/share/doc/x\n/usr/share/man/man7/B.7\n";
    let run = |argv: &[&str], stdin: &str| filter(&words(argv), stdin);
    assert_eq!(
        run(&["grep", "-E", r"/man/.*\.[1-9](\.gz)?$"], input).as_deref(),
        Some("/usr/share/man/man1/a.1.gz\n/usr/share/man/man7/B.7\n")
    );
    assert_eq!(
        run(&["grep", "-v", "man"], input).as_deref(),
        Some("/usr/share/doc/x\n")
    );
    assert_eq!(
        run(&["grep", "-x", "-F", "a.1"], "a.1\nxa.1\n").as_deref(),
        Some("a.1\n")
    );
    assert_eq!(run(&["grep", "-q", "x"], input).as_deref(), Some(""));
    // `-c` prints the number of selected lines, 0 included; `-q` wins over it.
    assert_eq!(run(&["grep", "-c", "man"], input).as_deref(), Some("2\n"));
    assert_eq!(
        run(&["grep", "--count", "-v", "man"], input).as_deref(),
        Some("1\n")
    );
    assert_eq!(run(&["grep", "-Fc", "nothing"], input).as_deref(), Some("0\n"));
    assert_eq!(run(&["grep", "-cq", "man"], input).as_deref(), Some(""));
    assert_eq!(run(&["sed", "s/a/b/g"], "aa\nca").as_deref(), Some("bb\ncb"));
    assert_eq!(run(&["tr", "-cd", "0-9"], "9.1-x\n").as_deref(), Some("91"));
    assert_eq!(run(&["tr", "a-c", "A-C"], "abcd").as_deref(), Some("ABCd"));
    assert_eq!(run(&["tr", "-d", "\\n"], "a\nb\n").as_deref(), Some("ab"));
    // Squeezed as GNU tr does: runs of one character of the set, not of the set's characters.
    assert_eq!(
        run(&["tr", "-s", " "], "--port 69   --x  5 /srv\n").as_deref(),
        Some("--port 69 --x 5 /srv\n")
    );
    assert_eq!(run(&["tr", "-s", "ab"], "aabbab  c").as_deref(), Some("abab  c"));
    // With two sets: translated, then runs of the second set's characters squeezed, those that
    // were there before too (what GNU tr 9.1 prints for each).
    assert_eq!(
        run(&["tr", "-s", " ", ":"], "a  b   c\n").as_deref(),
        Some("a:b:c\n")
    );
    assert_eq!(
        run(&["tr", "-s", " ", ":"], "aa::b  x\n").as_deref(),
        Some("aa:b:x\n")
    );
    assert_eq!(
        run(&["tr", "-s", "ab", "x"], "abcabc\n").as_deref(),
        Some("xcxc\n")
    );
    assert_eq!(run(&["tr", "-s", " ", ":"], "").as_deref(), Some(""));
    assert_eq!(run(&["sort", "-u"], "b\na\nb\n").as_deref(), Some("a\nb\n"));
    assert_eq!(run(&["head", "-n", "1"], "b\na\n").as_deref(), Some("b\n"));
    assert_eq!(
        run(&["cut", "-d:", "-f2"], "a.conf:50-a.conf\nplain\n").as_deref(),
        Some("50-a.conf\nplain\n")
    );
    assert_eq!(
        run(&["cut", "-d", ",", "-f", "1,3-"], "a,b,c,d\n").as_deref(),
        Some("a,c,d\n")
    );
    // Forms not reproduced are unknown, not guessed.
    assert_eq!(
        run(&["grep", "a|b"], input).map(|_| ()),
        Some(()),
        "BRE `|` is a literal"
    );
    // grep only selects lines: alternation is kept (where a match starts does not matter).
    let a_or_b: String = input
        .lines()
        .filter(|l| l.contains('a') || l.contains('b'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(run(&["grep", "-E", "a|b"], input), Some(a_or_b.clone()));
    assert_eq!(run(&["grep", "a\\|b"], input), Some(a_or_b.clone()));
    assert_eq!(run(&["egrep", "a|b"], input), Some(a_or_b));
    assert_eq!(run(&["fgrep", "a|b"], input), Some(String::new()));
    assert_eq!(run(&["sort", "-n"], input), None);
    // Repeats and classes GNU tr refuses in the second set.
    assert_eq!(run(&["tr", "a", "[x*3]"], input), None);
    assert_eq!(run(&["tr", "a-z", "[:digit:]"], input), None);
    assert_eq!(run(&["wc", "-L"], input), None);
    assert_eq!(run(&["wc"], input), None);
    assert_eq!(
        run(&["awk", "{print; exit}", "/etc/x"], input),
        None,
        "awk's file operands are the caller's"
    );
    let path = |argv: &[&str]| path_part(&words(argv));
    assert_eq!(path(&["basename", "/a/b.1.gz", ".gz"]).as_deref(), Some("b.1"));
    assert_eq!(path(&["basename", "/a/b/"]).as_deref(), Some("b"));
    assert_eq!(path(&["dirname", "/a/b"]).as_deref(), Some("/a"));
    assert_eq!(path(&["dirname", "/a"]).as_deref(), Some("/"));
    assert_eq!(path(&["dirname", "a"]).as_deref(), Some("."));
}

#[test]
fn seq_counts_as_seq_does() {
    let seq = |a: &[&str]| super::seq(&words(a));
    assert_eq!(seq(&["seq", "3"]).as_deref(), Some("1\n2\n3\n"));
    assert_eq!(seq(&["seq", "6", "-1", "4"]).as_deref(), Some("6\n5\n4\n"));
    assert_eq!(seq(&["/usr/bin/seq", "2", "1"]).as_deref(), Some(""));
    assert_eq!(seq(&["seq", "1", "0", "3"]), None);
    assert_eq!(seq(&["seq", "-w", "3"]), None);
}

#[test]
fn sed_n_prints_what_p_substitutes() {
    let run = |argv: &[&str], stdin: &str| filter(&words(argv), stdin);
    let conf = "# c\nDIR_MODE=0751\nX=1\n";
    assert_eq!(
        run(&["sed", "-ne", r"s/^DIR_MODE=\([0-9]*\).*$/\1/p"], conf).as_deref(),
        Some("0751\n")
    );
    assert_eq!(run(&["sed", "s/X/Y/p"], "X\nZ\n").as_deref(), Some("Y\nY\nZ\n"));
}

/// dovecot-core's postinst skips its `conf.d/` files with `[ "$(echo "$f" | cut -b -7)" !=
/// "conf.d/" ]`: bytes and characters (GNU cut counts both in bytes), and fields split at a tab
/// without `-d`.
#[test]
fn cut_takes_bytes_and_tab_separated_fields() {
    let run = |argv: &[&str], stdin: &str| filter(&words(argv), stdin);
    assert_eq!(
        run(&["cut", "-b", "-7"], "conf.d/10-auth.conf\ndovecot.conf\n").as_deref(),
        Some("conf.d/\ndovecot\n")
    );
    assert_eq!(run(&["cut", "-c2-3,5"], "abcdef\n").as_deref(), Some("bce\n"));
    assert_eq!(
        run(&["cut", "-b", "1"], "\u{e9}t\u{e9}\n"),
        None,
        "half a character"
    );
    assert_eq!(
        run(&["cut", "-f", "2"], "a\tb\tc\nplain\n").as_deref(),
        Some("b\nplain\n")
    );
    assert_eq!(
        run(&["cut", "-d", ":", "-b", "1"], "a:b\n"),
        None,
        "-d goes with -f only"
    );
}

/// awk inside a pipeline (tftpd-hpa's `$(echo ${TFTP_DIRECTORY} | awk '{ print $1 }')`): the
/// filter runs the program (awk/tests.rs compares its programs with mawk); a file operand, an
/// option it does not take and a program it does not run are unknown.
#[test]
fn awk_runs_as_a_filter() {
    let run = |argv: &[&str], stdin: &str| filter(&words(argv), stdin);
    assert_eq!(
        run(&["awk", "{ print $1 }"], "  /srv/tftp  /other\n"),
        Some("/srv/tftp\n".into())
    );
    assert_eq!(
        run(&["mawk", "-F:", "{print $3}"], "root:x:0:0\nshort\n"),
        Some("0\n\n".into())
    );
    assert_eq!(run(&["gawk", "NR == 2"], "a\nb\n"), Some("b\n".into()));
    assert_eq!(run(&["awk", "{ print $1 }", "/etc/passwd"], "1\n"), None);
    assert_eq!(run(&["awk", "-f", "prog.awk"], "1\n"), None);
    assert_eq!(run(&["awk", "{ print $1 > \"/tmp/x\" }"], "1\n"), None);
    assert_eq!(run(&["awk", "{ print ENVIRON[\"HOME\"] }"], "1\n"), None);
}

/// util-linux getopt's output, as the host's getopt printed it for the same arguments;
/// errors (an unknown option) are not known.
#[test]
fn getopt_prints_what_util_linux_getopt_prints() {
    let run = |argv: &[&str]| getopt(&words(argv));
    // getopt's own long options by a unique prefix (dbconfig-generate-include's `--long`); an
    // ambiguous one (`--q`: quiet or quiet-output) is its error.
    assert_eq!(
        run(&[
            "-o",
            "af:hb::d::m:o:p::u::s::t::C::O:P::Uv",
            "--long",
            "help,dbuser::,dbname::,dbpass::,dbport::,dbserver::,dbtype::,basepath::,output:,format:,options:,comment::,owner:,mode:,ucf,version",
            "-n",
            "dgi",
            "--",
            "-a",
            "-f",
            "php",
            "-O",
            "root:www-data",
            "-m",
            "0640",
            "-U",
            "/etc/dbconfig-common/tt-rss.conf",
            "/etc/tt-rss/database.php",
        ])
        .as_deref(),
        Some(
            " -a -f 'php' -O 'root:www-data' -m '0640' -U -- '/etc/dbconfig-common/tt-rss.conf' '/etc/tt-rss/database.php'\n"
        )
    );
    assert_eq!(
        run(&["--lo", "a,b:", "--o", "x", "--", "--a", "--b=1", "-x", "y"]).as_deref(),
        Some(" --a --b '1' -x -- 'y'\n")
    );
    assert_eq!(run(&["--q", "-o", "a", "--", "-a"]), None);
    assert_eq!(
        run(&[
            "-n",
            "x",
            "-l",
            "qflags:,queuerunner:,force,help,init",
            "--",
            "+fh",
            "--init"
        ])
        .as_deref(),
        Some(" --init --\n")
    );
    assert_eq!(
        run(&[
            "-o",
            "ab:c::",
            "-l",
            "long,arg:,opt::",
            "--",
            "-a",
            "-b",
            "val",
            "-cX",
            "--long",
            "--arg=v",
            "--opt",
            "x",
            "it's",
            "--ar",
            "w"
        ])
        .as_deref(),
        Some(" -a -b 'val' -c 'X' --long --arg 'v' --opt '' --arg 'w' -- 'x' 'it'\\''s'\n")
    );
    assert_eq!(
        run(&["-o", "ab", "--", "-ab", "file", "-a"]).as_deref(),
        Some(" -a -b -a -- 'file'\n")
    );
    assert_eq!(
        run(&["-o", "+ab", "--", "-a", "file", "-b"]).as_deref(),
        Some(" -a -- 'file' '-b'\n")
    );
    assert_eq!(
        run(&["-o", "a", "-l", "init", "--", "--in"]).as_deref(),
        Some(" --init --\n")
    );
    assert_eq!(
        run(&["-o", "", "-l", "init", "--", ""]).as_deref(),
        Some(" -- ''\n")
    );
    assert_eq!(
        run(&["-o", "a", "--", "-z"]),
        None,
        "an unknown option is getopt's error"
    );
    assert_eq!(run(&["-o", "b:", "--", "-b"]), None, "a missing argument too");
}

/// `expr`'s output and status against the host's (GNU coreutils): every form it computes, and
/// the forms it leaves undecided are undecided.
#[test]
fn expr_matches_the_hosts() {
    let cases: &[&[&str]] = &[
        &["abc", ":", "a"],
        &["abc", ":", "^a"],
        &["^abc", ":", "^a"],
        &["/usr/share/fonts/X11/misc", ":", "/.*"],
        &["misc", ":", "/.*"],
        &["abc", ":", "\\(b\\)"],
        &["abc", ":", "a\\(b\\)"],
        &["abc", ":", "a\\(x*\\)"],
        &["80", ":", "[[:digit:]]\\+$"],
        &["8x", ":", "[[:digit:]]\\+$"],
        &["", ":", "[[:digit:]]\\+$"],
        &["abc", ":", "x*"],
        &["a.b", ":", "a\\.b"],
        &["match", "libfoo2", "lib\\(.*\\)[0-9]"],
        &["3", "+", "4"],
        &["10", "/", "3"],
        &["10", "%", "3"],
        &["2", "-", "5"],
        &["6", "*", "7"],
        &["a", "=", "a"],
        &["a", "!=", "a"],
        &["2", "<", "10"],
        &["10", "<=", "2"],
        &["3", ">", "3"],
        &["3", ">=", "3"],
        &["length", "abcd"],
        &["length", ""],
        // GNU's integers have no `+`; `00` and `-0` are null (status 1).
        &["+5", "=", "5"],
        &["00", ":", "\\(.*\\)"],
        &["-0", ":", "-0"],
        &["a(b", ":", "a[\\(]"],
        &["x", ":", "\\(y\\)*"],
    ];
    let Some(host) = super::super::super::testutil::host_tool("expr") else {
        eprintln!("no expr on this host: not cross-checked");
        return;
    };
    for case in cases {
        let args: Vec<String> = case.iter().map(|s| s.to_string()).collect();
        let out = std::process::Command::new(&host)
            .args(&args)
            .env("LC_ALL", "C")
            .output()
            .expect("expr runs");
        let want = (
            String::from_utf8_lossy(&out.stdout)
                .trim_end_matches('\n')
                .to_owned(),
            out.status.code() == Some(0),
        );
        assert_eq!(expr(&args), Some(want), "expr {case:?}");
    }
    let undecided: &[&[&str]] = &[
        &["1", "+", "2", "+", "3"],
        &["a", "<", "b"],
        &["5", "/", "0"],
        &["x", "+", "1"],
    ];
    for case in undecided {
        let args: Vec<String> = case.iter().map(|s| s.to_string()).collect();
        assert_eq!(expr(&args), None, "expr {case:?}");
    }
}

/// `grep -z`: records end in NUL (`grep -zqs ^container= /proc/1/environ`, qemu-user-static's
/// check for a container); what it would print is not computed.
#[test]
fn grep_z_matches_nul_separated_records() {
    let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let environ = "PATH=/bin\0container=docker\0HOME=/\0";
    assert_eq!(
        grep_matches(&argv(&["grep", "-zqs", "^container="]), environ),
        Some(true)
    );
    assert_eq!(
        grep_matches(&argv(&["grep", "-zqs", "^container="]), "PATH=/bin\0HOME=/\0"),
        Some(false)
    );
    // Without -z the first record is the whole text: `^container=` does not start it.
    assert_eq!(
        grep_matches(&argv(&["grep", "-qs", "^container="]), environ),
        Some(false)
    );
    assert_eq!(grep_matches(&argv(&["grep", "-z", "x"]), ""), Some(false));
    assert_eq!(filter(&argv(&["grep", "-z", "HOME"]), environ), None);
}

/// Blocks, `ADDRESS { … }` (samba-common's postinst keeps an old smb.conf's shares with two), as
/// the host's GNU sed runs them.
#[test]
fn sed_blocks_match_the_hosts_sed() {
    let input = "; comment\n[global]\n   workgroup = X\n\n[printers]\n   path = /var\n; [print$]\n   x = 1\n[homes]\n   browseable = no\n\n[share]\n   path = /srv\n";
    let scripts = [
        "1,/^[;#[:space:]]*\\[print\\$\\]/ { d }\n\t\t1,/^[[:space:]]*\\[/ { /^[^[]/d; /^$/d }\n\t",
        "/^\\[/,/^$/ { s/ = / := /; /path/d }",
        "2,4!{ s/^/> /\n}",
        "/global/{p;p}",
        "/x/ { /y/ { d } ; s/x/X/ }",
        "${ s/$/ (last)/ }",
    ];
    let Some(host) = super::super::super::testutil::host_tool("sed") else {
        eprintln!("no sed on this host: not cross-checked");
        return;
    };
    for script in scripts {
        let commands = parse_script(script, false).unwrap_or_else(|e| panic!("{script:?}: {e}"));
        let ours = sed_text(input, &commands, false).expect("runs");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("in");
        std::fs::write(&file, input).expect("write");
        let out = std::process::Command::new(&host)
            .arg("-e")
            .arg(script)
            .arg(&file)
            .output()
            .expect("sed runs");
        assert!(
            out.status.success(),
            "{script:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(ours, String::from_utf8_lossy(&out.stdout), "{script:?}");
    }
    for bad in ["1{ d", "d }", "1{ d };}"] {
        assert!(parse_script(bad, false).is_err(), "{bad:?}");
    }
}

/// sed's `-e` scripts are the lines of one program: a block in a later one jumps over its own
/// commands (a jump counted in its script alone looped for ever).
#[test]
fn sed_blocks_in_later_scripts_jump_within_the_whole_program() {
    let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let out = filter(
        &argv(&[
            "sed",
            "-e",
            "s/a/b/",
            "-e",
            "s/c/d/",
            "-e",
            "s/e/f/",
            "-e",
            "/x/{s/y/Y/;p}",
        ]),
        "y\nxy\n",
    );
    assert_eq!(out.as_deref(), Some("y\nxY\nxY\n"));
    // An operand before `-e` is a file grep reads, not a pattern.
    assert_eq!(filter(&argv(&["grep", "foo", "-e", "bar"]), "foo\nbar\n"), None);
}

/// Several `-e` patterns: a line matching any one is selected (libnss-sss's postinst checks six
/// databases at once), as the host's grep selects them.
#[test]
fn grep_with_several_patterns_matches_any_of_them() {
    let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let input = "passwd: files\ngroup: files sss\nhosts: dns\n";
    let cases: &[&[&str]] = &[
        &[
            "grep",
            "-E",
            "-e",
            "^automount:[^#]*\\s(sss)(\\s|#|$)",
            "-e",
            "^group:[^#]*\\s(sss)(\\s|#|$)",
        ],
        &["grep", "-e", "^passwd", "-e", "^hosts"],
        &["grep", "-F", "-e", "dns", "-e", "nothing"],
        &["grep", "-x", "-e", "hosts: dns", "-e", "passwd"],
        &["grep", "-e", "nothing", "-e", "none"],
    ];
    let host = super::super::super::testutil::host_tool("grep");
    for case in cases {
        let ours = filter(&argv(case), input);
        if let Some(grep) = &host {
            let out = host_run(grep, &argv(&case[1..]), input);
            assert_eq!(
                ours.as_deref(),
                Some(&*String::from_utf8_lossy(&out.stdout)),
                "{case:?}"
            );
        }
        let matched = grep_matches(&argv(case), input);
        assert_eq!(matched, ours.map(|o| !o.is_empty()), "{case:?}");
    }
}

/// `wc`'s single counts and `tr`'s classes, as the host's coreutils print them for the same
/// input (update-fonts-scale's `cat TMP | wc -l | tr -d '[:blank:]'`).
#[test]
fn wc_and_tr_classes_match_the_hosts() {
    let input =
        "a.pfb -urw-a-medium-r-normal--0-0-0-0-p-0-iso8859-1\n\tB.pfb  x \n\nlast words, 2 (no newline)";
    let cases: [&[&str]; 9] = [
        &["wc", "-l"],
        &["wc", "-w"],
        &["wc", "-c"],
        &["tr", "-d", "[:blank:]"],
        &["tr", "-d", "[:space:][:digit:]"],
        &["tr", "[:lower:]", "[:upper:]"],
        &["tr", "[:upper:]", "[:lower:]"],
        &["tr", "-cd", "[:alnum:]\\n"],
        &["tr", "[:punct:]", "_"],
    ];
    for argv in cases {
        let words: Vec<String> = argv.iter().map(|a| (*a).to_owned()).collect();
        let ours = filter(&words, input).unwrap_or_else(|| panic!("{argv:?} is reproduced"));
        let Some(host) = super::super::super::testutil::host_tool(argv[0]) else {
            eprintln!("no {} on this host: not cross-checked", argv[0]);
            continue;
        };
        let out = host_run(&host, &words[1..], input);
        assert!(out.status.success(), "{argv:?}");
        assert_eq!(ours, String::from_utf8_lossy(&out.stdout), "{argv:?}");
    }
}

/// Labels and branches as the host's GNU sed runs them: libnss-winbind's postinst adds `winbind`
/// to the `passwd` and `group` lines of nsswitch.conf unless a line has it
/// (`/…winbind\b/b` skips the rest of the program for that line), `t` after a substitution, and
/// GNU's `T`.
#[test]
fn sed_branches_match_the_hosts_sed() {
    let input =
        "passwd:         files\ngroup:          files winbind\nshadow:         files\nhosts: files dns\n";
    let scripts: [(&[&str], bool); 6] = [
        (
            &[
                "/^(passwd|group):.*[[:space:]]winbind\\b/b",
                "s/^(passwd|group):.*/& winbind/",
            ],
            true,
        ),
        (&[":a\ns/files/FILES/\nta\ns/$/ ./"], false),
        (&["s/dns/DNS/;t done\ns/$/ (no dns)/\n:done"], false),
        (&["s/dns/DNS/;T\ns/$/ (had dns)/"], false),
        (&["/^hosts/{ s/files/F/; b end }\ns/^/# /\n: end"], false),
        (&["/shadow/!b;s/files/compat/"], false),
    ];
    let Some(host) = super::super::super::testutil::host_tool("sed") else {
        eprintln!("no sed on this host: not cross-checked");
        return;
    };
    for (script, extended) in scripts {
        let joined = script.join("\n");
        let commands = parse_script(&joined, extended).unwrap_or_else(|e| panic!("{script:?}: {e}"));
        let ours = sed_text(input, &commands, false).expect("runs");
        let mut args: Vec<String> = Vec::new();
        if extended {
            args.push("-r".into());
        }
        for s in script {
            args.extend(["-e".to_owned(), (*s).to_owned()]);
        }
        let out = host_run(&host, &args, input);
        assert!(
            out.status.success(),
            "{script:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(ours, String::from_utf8_lossy(&out.stdout), "{script:?}");
    }
    // A jump to a label nowhere is an error, as in sed; a branch looping for ever has no output.
    assert!(parse_script("b nowhere", false).is_err());
    let looping = parse_script(":a\ns/x/x/\nta", false).expect("parses");
    assert_eq!(sed_text("x\n", &looping, false), None);
}

/// Alternation in a substitution is kept only where POSIX's longest match and `regex`'s first
/// match cannot differ: literal alternatives none of which begins another.
#[test]
fn alternation_of_exclusive_literals_is_substituted_as_gnu_sed_does() {
    assert!(
        edit(
            "s/^(passwd|group):.*/& winbind/",
            true,
            "group: files\nhosts: files\n"
        )
        .is_ok()
    );
    assert_eq!(
        edit(
            "s/^\\(passwd\\|group\\):/X:/",
            false,
            "passwd: a\ngroup: b\nshadow: c\n"
        )
        .as_deref(),
        Ok("X: a\nX: b\nshadow: c\n")
    );
    for refused in ["s/(a|ab)/X/", "s/(a.|b)/X/", "s/(a|)/X/", "s/a|b*/X/"] {
        assert!(edit(refused, true, "ab\n").is_err(), "{refused}");
    }
}

/// `… | xargs` prints the input's words on one line, as `echo` run by the host's xargs does.
#[test]
fn xargs_echoes_the_words_of_its_input() {
    let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for input in ["passwd\ngroup\n", "", "  a  b\tc\n\n"] {
        let ours = filter(&argv(&["xargs"]), input).expect("reproduced");
        let Some(host) = super::super::super::testutil::host_tool("xargs") else {
            eprintln!("no xargs on this host: not cross-checked");
            return;
        };
        let out = host_run(&host, &[], input);
        assert_eq!(ours, String::from_utf8_lossy(&out.stdout), "{input:?}");
    }
    assert_eq!(
        filter(&argv(&["xargs"]), "'a b'\n"),
        None,
        "quotes are xargs' own"
    );
    assert_eq!(filter(&argv(&["xargs", "rm"]), "x\n"), None);
}

/// The delimiter inside a bracket expression is one of its characters, as GNU sed reads it
/// (keyboard-configuration's `regex_escape`, `s/[/]/%slash%/g`); a `]` first in the brackets,
/// after `^` too, and POSIX classes do not end them. Checked against the host's sed.
#[test]
fn a_delimiter_inside_brackets_is_a_character_as_gnu_sed_reads_it() {
    let text = "a/b]c|d:e\n";
    let cases = [
        ("s/[/]/%slash%/g", "a%slash%b]c|d:e\n"),
        ("s/[]/]/X/g", "aXbXc|d:e\n"),
        ("s/[^]/a-z]/_/g", "a/b]c_d_e\n"),
        ("s|[|]|X|", "a/b]cXd:e\n"),
        ("s/[[:punct:]/]/ /g", "a b c d e\n"),
        ("/[/]/s/[[:alpha:]]//", "/b]c|d:e\n"),
    ];
    for (script, expected) in cases {
        assert_eq!(edit(script, false, text).as_deref(), Ok(expected), "{script}");
        if let Some(sed) = super::super::super::testutil::host_tool("sed") {
            let out = host_run(&sed, &[script.to_owned()], text);
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                expected,
                "the host's sed on {script}"
            );
        }
    }
    // An unterminated bracket leaves the command unterminated, as sed says.
    assert!(edit("s/[/x/", false, text).is_err());
}

/// `iconv` between UTF-8 and itself, or of ASCII text, leaves the text as it is (what
/// keyboard-configuration converts to the C.UTF-8 locale's charmap); other conversions are not
/// known. Checked against the host's iconv.
#[test]
fn iconv_to_the_same_charset_is_the_text_itself() {
    let argv = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    let text = "layout*fr*Français\nlayout*de*Deutsch\n";
    for args in [
        &["-f", "UTF-8", "-t", "UTF-8//TRANSLIT"][..],
        &["-f", "utf8", "-t", "UTF-8"],
        &["--from-code=UTF-8", "--to-code=UTF-8//IGNORE"],
    ] {
        let mut full = argv(&["iconv"]);
        full.extend(argv(args));
        assert_eq!(filter(&full, text).as_deref(), Some(text), "{args:?}");
        if let Some(iconv) = super::super::super::testutil::host_tool("iconv") {
            let out = host_run(&iconv, &argv(args), text);
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                text,
                "the host's iconv {args:?}"
            );
        }
    }
    assert_eq!(
        filter(&argv(&["iconv", "-f", "ASCII", "-t", "UTF-8"]), "plain\n").as_deref(),
        Some("plain\n")
    );
    // Not the text itself: to ASCII with a non-ASCII character, another charset, a file.
    assert_eq!(
        filter(&argv(&["iconv", "-f", "UTF-8", "-t", "ASCII//TRANSLIT"]), text),
        None
    );
    assert_eq!(
        filter(&argv(&["iconv", "-f", "UTF-8", "-t", "ISO-8859-1"]), text),
        None
    );
    assert_eq!(
        filter(&argv(&["iconv", "-f", "UTF-8", "-t", "UTF-8", "f"]), text),
        None
    );
}

#[test]
fn sed_short_options_bundled_as_getopt_reads_them() {
    let run = |argv: &[&str], stdin: &str| filter(&words(argv), stdin);
    // What GNU sed 4.9 prints for each (dma's postinst edits its template with `-re`).
    let input = "# comment\n#SMARTHOST mail.example.com\n  SMARTHOST x\nPORT 25\n";
    let dma = r"s@^[[:space:]]*(#+[[:space:]]*)?SMARTHOST([[:space:]]+.*)?$@#SMARTHOST@";
    let want = "# comment\n#SMARTHOST\n#SMARTHOST\nPORT 25\n";
    assert_eq!(run(&["sed", "-re", dma], input).as_deref(), Some(want));
    assert_eq!(run(&["sed", "-r", "-e", dma], input).as_deref(), Some(want));
    assert_eq!(run(&["sed", "-ne", "s/a/X/p"], "a\nb\n").as_deref(), Some("X\n"));
    assert_eq!(
        run(&["sed", "-nre", r"s/(a)/[\1]/p"], "a\nb\n").as_deref(),
        Some("[a]\n")
    );
    assert_eq!(
        run(&["sed", "-rne", r"s/(a)/[\1]/p"], "a\nb\n").as_deref(),
        Some("[a]\n")
    );
    assert_eq!(run(&["sed", "-es/a/X/"], "a\n").as_deref(), Some("X\n"));
    // Their long forms (cyrus-common's `sed --silent -e …`).
    let conf = "configdirectory: /var/lib/cyrus\npartition-default: /var/spool/cyrus/mail\n";
    let getconf = "/^[[:blank:]]*configdirectory:/ { s#^[[:blank:]]*configdirectory:[[:blank:]]*## \n p\n }";
    assert_eq!(
        run(&["sed", "--silent", "-e", getconf], conf).as_deref(),
        Some("/var/lib/cyrus\n")
    );
    assert_eq!(
        run(&["sed", "--quiet", "--expression", "s/a/X/p"], "a\nb\n").as_deref(),
        Some("X\n")
    );
    assert_eq!(
        run(&["sed", "--regexp-extended", "-n", r"s/(a)/[\1]/p"], "a\n").as_deref(),
        Some("[a]\n")
    );
    // An option it does not reproduce, a script missing after `-e`, and an in-place edit (a
    // file command, not a filter) are not answered.
    assert_eq!(run(&["sed", "-ze", "s/a/X/"], "a\n"), None);
    assert_eq!(run(&["sed", "-re"], "a\n"), None);
    assert_eq!(run(&["sed", "-ri", "s/a/X/"], "a\n"), None);
}
