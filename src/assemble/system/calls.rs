//! The calls of one tool the packages' postinsts make on a fresh install, for the emulations that
//! compute the tool's output once from the finished tree (icon caches, compiled schemas, the
//! hardware database): which calls there are, and which forms are not reproduced.

use super::shell::{self, Call};
use super::{InstalledPackage, NotEmulated, TreeView};

/// Every call `parse` recognises in the postinsts (walked as `postinst configure` with the image's
/// files answering the tests), in package order, with the package making it; the forms `parse`
/// refuses (`Some(Err(why))`), and the calls whose arguments the walk does not know, as report
/// entries. Scripts without `needle` are not walked.
pub fn postinst_calls<'p, T>(
    tree: &dyn TreeView,
    packages: &'p [InstalledPackage],
    needle: &str,
    parse: impl Fn(&str, &[String]) -> Option<Result<T, String>>,
) -> (Vec<(T, &'p InstalledPackage)>, Vec<NotEmulated>) {
    let mut found = Vec::new();
    let mut report = Vec::new();
    for pkg in packages {
        let Some(script) = pkg.script_text("postinst") else {
            continue;
        };
        let script: &str = &script;
        if !script.contains(needle) {
            continue;
        }
        let Ok(nodes) = shell::parse(script) else { continue };
        let mut cb = |c: Call<'_>| {
            let Ok(argv) = c.argv else {
                // A call of the tool whose arguments the walk does not know: neither computed
                // nor silently dropped (the walk in `files` leaves such calls to the module).
                let mut words = c.text.split_whitespace().map(|w| w.trim_matches(['"', '\'']));
                let first = words.next().unwrap_or("");
                let rest: Vec<String> = words.map(str::to_owned).collect();
                if parse(first, &rest).is_some() {
                    report.push(NotEmulated {
                        package: pkg.name.clone(),
                        script: "postinst".into(),
                        what: format!("{} (its arguments are not known; run it at first start)", c.text),
                    });
                }
                return;
            };
            let Some((argv0, args)) = argv.split_first() else {
                return;
            };
            match parse(argv0, args) {
                Some(Ok(t)) => found.push((t, pkg)),
                Some(Err(why)) => report.push(NotEmulated {
                    package: pkg.name.clone(),
                    script: "postinst".into(),
                    what: format!("{} ({why})", argv.join(" ")),
                }),
                None => {}
            }
        };
        let files = |p: &str| super::file_kind(tree, p);
        shell::Eval::new(&["configure", ""], &mut cb)
            .with_files(&files)
            .run(&nodes);
    }
    (found, report)
}
