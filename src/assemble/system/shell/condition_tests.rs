//! Conditions the walk decides by running the script's own functions, and the ones it cannot
//! decide (walked as holding, the rest told to the caller).

use super::tests::{calls, calls_and_told};

pub(super) fn command_lines(calls: &[Result<Vec<String>, String>]) -> Vec<String> {
    calls
        .iter()
        .map(|c| match c {
            Ok(a) => a.join(" "),
            Err(e) => format!("?{e}"),
        })
        .collect()
}

/// A condition that calls one of the script's functions (slapd's `if is_initial_configuration
/// "$@"`, `if manual_configuration_wanted`) takes the status its `return` gives; the function's
/// commands run once, whichever way it goes.
#[test]
fn a_function_as_a_condition_gives_the_status_it_returns() {
    let script = "initial() {\n  touch /ran-initial\n  if [ \"$1\" = configure ] && [ -z \"$2\" ]; then\n    return 0\n  fi\n  return 1\n}\n\
                  manual() {\n  if [ \"$x\" = true ]; then return 0; fi\n  return 1\n}\n\
                  x=false\n\
                  if initial \"$@\"; then touch /fresh; else touch /upgrade; fi\n\
                  if manual; then touch /manual; else touch /automatic; fi\n\
                  if ! manual; then touch /not-manual; fi\n\
                  manual || touch /fallback\n";
    assert_eq!(
        command_lines(&calls(script)),
        [
            "touch /ran-initial",
            "touch /fresh",
            "touch /automatic",
            "touch /not-manual",
            "touch /fallback"
        ]
    );
}

/// A `return` reached on a guess (an undecided condition taken as holding) leaves the
/// function's status unknown: the caller's condition is undecided too, and the branch it did
/// not walk goes to the guess sink.
#[test]
fn a_return_reached_on_a_guess_is_not_a_known_status() {
    let script =
        "f() {\n  if frobnicate; then return 0; fi\n  return 1\n}\nif f; then touch /a; else touch /b; fi\n";
    let (out, told) = calls_and_told(script);
    assert_eq!(command_lines(&out), ["frobnicate", "touch /a"]);
    // The guessed `return 0` ended the function: its rest (`return 1`) is told too (the caller
    // reports only commands with effects).
    assert_eq!(
        told,
        [
            ("frobnicate".to_owned(), vec!["return 1".to_owned()]),
            ("f".to_owned(), vec!["touch /b".to_owned()])
        ],
    );
}

/// A function decided as a condition earlier does not stop a later undecided condition's
/// command from running (fontconfig-config's `if is_initial_configuration "$@"` … then `if mkdir
/// /usr/local/share/fonts; then chmod …`).
#[test]
fn a_later_undecided_condition_still_runs_its_command() {
    let script = "initial() {\n  [ \"$1\" = configure ] && return 0\n  return 1\n}\n\
                  if initial \"$@\"; then touch /fresh; fi\n\
                  if mkdir /usr/local/share/fonts 2>/dev/null; then chmod 2775 /usr/local/share/fonts; fi\n\
                  initial \"$@\" && touch /and\n\
                  mkdir /x || touch /fallback\n";
    assert_eq!(
        command_lines(&calls(script)),
        [
            "touch /fresh",
            "mkdir /usr/local/share/fonts",
            "chmod 2775 /usr/local/share/fonts",
            "touch /and",
            "mkdir /x"
        ]
    );
}

/// What describes the running system is answered as the image is built: its kernel is Linux
/// (`uname -s`), its scripts run as in a chroot (`ischroot`). libc6's scripts branch on both.
#[test]
fn the_kernel_name_and_a_chroot_as_an_image_build_sees_them() {
    let script = "system=`uname -s`\nif [ \"$system\" = \"Linux\" ]; then touch /linux; else touch /other; fi\n\
                  if ischroot 2>/dev/null; then TELINIT=no; elif [ -d /run/systemd/system ]; then systemctl daemon-reexec; fi\n\
                  [ \"$TELINIT\" = no ] && touch /no-telinit\n";
    assert_eq!(
        command_lines(&calls(script)),
        ["touch /linux", "touch /no-telinit"]
    );
}

/// `mountpoint -q DIR` as an image build answers it: /usr and the like are no mount points
/// (usrmerge's preinst: a separate /usr without an initramfs makes it `exit 1`); the root and
/// the kernel's file systems (/proc, /sys, /dev) depend on the runner, and other forms are not
/// decided either: walked as holding.
#[test]
fn mount_points_as_an_image_build_sees_them() {
    let script = "is_mountpoint() {\n  if mountpoint -q \"$1\"; then\n    return 0\n  fi\n  return 1\n}\n\
                  if is_mountpoint /usr; then touch /usr-mounted; else touch /usr-not-mounted; fi\n\
                  /bin/mountpoint --quiet /var/lib/./ || touch /var-lib-not-mounted\n\
                  mountpoint -q /proc/ && touch /proc-undecided\n\
                  mountpoint -x /dev/sda1 && touch /device-undecided\n\
                  mountpoint -q relative || touch /relative-undecided\n\
                  mountpoint -q /usr/../proc || touch /dots-undecided\n";
    assert_eq!(
        command_lines(&calls(script)),
        [
            "touch /usr-not-mounted",
            "touch /var-lib-not-mounted",
            "mountpoint -q /proc/",
            "touch /proc-undecided",
            "mountpoint -x /dev/sda1",
            "touch /device-undecided",
            "mountpoint -q relative",
            "mountpoint -q /usr/../proc",
        ]
    );
}

/// libgcrypt20's postinst: `if [ -n "$2" ] && ! cleanup; then …; cleanup --verbose; fi` is
/// false on a fresh install whatever `cleanup` would return: neither call is made.
#[test]
fn a_function_after_a_false_test_is_not_called() {
    let script = "cleanup() {\n  /usr/share/x/clean-up \"$@\"\n}\n\
                  if [ -n \"$2\" ] && ! cleanup; then\n  cleanup --verbose\nfi\n\
                  [ -z \"$2\" ] || cleanup --again\n";
    assert_eq!(command_lines(&calls(script)), Vec::<String>::new());
}

/// `dpkg --compare-versions` between two known versions follows dpkg's order (the host's dpkg
/// agrees on every line); an empty version is the lowest, or the highest with `-nl`. A version
/// dpkg cannot parse is not decided (run, and walked as holding: `touch /g`).
#[test]
fn known_versions_are_compared_as_dpkg_compares_them() {
    let script = "dpkg --compare-versions 1.5.82 le 1.4 && touch /a\n\
                  dpkg --compare-versions 1.10 gt 1.9 && touch /b\n\
                  dpkg --compare-versions 1.0~rc1 '<<' 1.0 && touch /c\n\
                  dpkg --compare-versions 2:1 lt 10 || touch /d\n\
                  dpkg --compare-versions 1.0 lt-nl '' && touch /e\n\
                  dpkg --compare-versions 1.0 ne 1.0-0 || touch /f\n\
                  dpkg --compare-versions 'not a version' ne 1.0 && touch /g\n";
    assert_eq!(
        command_lines(&calls(script)),
        [
            "touch /b",
            "touch /c",
            "touch /d",
            "touch /e",
            "touch /f",
            "dpkg --compare-versions not a version ne 1.0",
            "touch /g"
        ]
    );
}
