use md5::{Digest, Md5};

use super::super::files;
use super::super::testutil::MemTree;
use super::super::testutil::with_postinst as pkg;
use super::*;

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

use super::super::testutil::written as file;

const NS: &str = "http://xml.org/sax/features/namespaces";

/// The base class as XML::SAX::Base defines `supported_features` (a literal list), with a second
/// package in the same file and POD whose examples must not count as code.
fn base_pm() -> String {
    format!(
        "package XML::SAX::Base;\nuse strict;\n\n=head1 SYNOPSIS\n\n  package MyFilter;\n  use base qw(Other::Thing);\n\n=cut\n\n\
         sub parse {{ my $self = shift; # not this one\n  return 1;\n}}\n\n\
         sub supported_features {{\n    my $self = shift;\n    # Only namespaces\n    return (\n        '{NS}',\n    );\n}}\n\n\
         package XML::SAX::Base::NoHandler;\nsub supported_features {{ return ('other', 'list'); }}\n1;\n__END__\nsub supported_features {{ 2 }}\n"
    )
}

/// An image with Perl's directories (bullseye's layout), the three parsers kube-cross has — one
/// naming its parent with `@ISA = (…)`, one with `use parent -norequire, '…'`, one with `use base` — and
/// ucf's state files.
fn tree() -> MemTree {
    let mut t = MemTree::new();
    t.tools(&["update-perl-sax-parsers", "ucf", "ucfr"]);
    t.dir("etc")
        .dir("etc/perl")
        .dir("usr/share/perl5/XML/SAX")
        .dir("usr/lib/x86_64-linux-gnu/perl5/5.32/XML/LibXML/SAX")
        .dir("usr/lib/x86_64-linux-gnu/perl/5.32")
        .dir("var/lib/libxml-sax-perl/ParserDetails.d")
        .dir("var/lib/ucf")
        .file("var/lib/ucf/hashfile", b"")
        .file("var/lib/ucf/registry", b"")
        .file("usr/share/perl5/XML/SAX/Base.pm", base_pm().as_bytes())
        .file(
            "usr/share/perl5/XML/SAX/PurePerl.pm",
            b"package XML::SAX::PurePerl;\nuse strict;\nuse vars qw($VERSION @ISA);\nuse XML::SAX::Base;\n@ISA = ('XML::SAX::Base');\nsub parse { 1 }\n1;\n",
        )
        .file(
            "usr/lib/x86_64-linux-gnu/perl5/5.32/XML/LibXML/SAX.pm",
            b"package XML::LibXML::SAX;\nuse strict;\nuse parent -norequire, 'XML::SAX::Base';\n1;\n",
        )
        .file(
            "usr/lib/x86_64-linux-gnu/perl5/5.32/XML/LibXML/SAX/Parser.pm",
            b"package XML::LibXML::SAX::Parser;\nuse vars qw(@ISA);\nuse base 'XML::SAX::Base';\n1;\n",
        );
    t
}

/// libxml-sax-perl's postinst (ucfr, then its own parser at priority 10), then
/// libxml-libxml-perl's (two parsers at the default 50), each ending in `--update`: the
/// registry as update-perl-sax-parsers and ucf leave it (the second `--update` replaces the
/// file ucf installed and nobody changed).
#[test]
fn parsers_registered_by_two_packages_as_the_tool_and_ucf_leave_them() {
    let sax = "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n  [ -d /etc/perl/XML/SAX ] || mkdir --parents /etc/perl/XML/SAX\n  \
               ucfr libxml-sax-perl /etc/perl/XML/SAX/ParserDetails.ini\n  \
               update-perl-sax-parsers --add XML::SAX::PurePerl --priority 10\n  update-perl-sax-parsers --update\nfi\n";
    let libxml = "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n  update-perl-sax-parsers --add XML::LibXML::SAX::Parser\n  \
                  update-perl-sax-parsers --add XML::LibXML::SAX\n  update-perl-sax-parsers --update\nfi\n";
    let (c, report) = files::compute(
        &tree(),
        &[pkg("libxml-sax-perl", sax), pkg("libxml-libxml-perl", libxml)],
    )
    .unwrap();
    assert!(report.is_empty(), "{report:?}");
    let fragment = |m: &str| format!("[{m}]\n{NS} = 1\n\n\n");
    for (name, module) in [
        ("10-XML::SAX::PurePerl", "XML::SAX::PurePerl"),
        ("50-XML::LibXML::SAX", "XML::LibXML::SAX"),
        ("50-XML::LibXML::SAX::Parser", "XML::LibXML::SAX::Parser"),
    ] {
        let (e, body) = file(&c, &format!("var/lib/libxml-sax-perl/ParserDetails.d/{name}"));
        assert_eq!(
            (String::from_utf8_lossy(body), e.mode),
            (fragment(module).into(), 0o644)
        );
    }
    let ini = [
        fragment("XML::SAX::PurePerl"),
        fragment("XML::LibXML::SAX"),
        fragment("XML::LibXML::SAX::Parser"),
    ]
    .concat();
    // The size of the file on a dpkg install of these three parsers.
    assert_eq!(ini.len(), 202);
    let (e, body) = file(&c, "etc/perl/XML/SAX/ParserDetails.ini");
    assert_eq!((body.as_slice(), e.mode, e.uid), (ini.as_bytes(), 0o644, 0));
    assert_eq!(
        file(&c, "var/lib/ucf/cache/:etc:perl:XML:SAX:ParserDetails.ini").1,
        ini.as_bytes()
    );
    let first = hex::encode(Md5::digest(fragment("XML::SAX::PurePerl").as_bytes()));
    let last = hex::encode(Md5::digest(ini.as_bytes()));
    assert_eq!(
        file(&c, "var/lib/ucf/hashfile").1,
        format!("{last}  /etc/perl/XML/SAX/ParserDetails.ini\n").as_bytes()
    );
    assert_eq!(
        file(&c, "var/lib/ucf/hashfile.0").1,
        format!("{first}  /etc/perl/XML/SAX/ParserDetails.ini\n").as_bytes()
    );
    assert_eq!(
        file(&c, "var/lib/ucf/registry").1,
        b"libxml-sax-perl \t /etc/perl/XML/SAX/ParserDetails.ini\n"
    );
    assert!(
        c.files.iter().all(|(e, _)| !e.path.starts_with("tmp")),
        "the temporary file is not left"
    );
}

/// `--remove` drops the file `--add` wrote; `--directory` makes the default priority 0 (no
/// prefix); `--file` writes the registry without ucf.
#[test]
fn remove_directory_and_file() {
    let script = "#!/bin/sh\nupdate-perl-sax-parsers --add XML::SAX::PurePerl --priority 10\n\
                  update-perl-sax-parsers --add=XML::LibXML::SAX\nupdate-perl-sax-parsers --remove XML::SAX::PurePerl --priority 10\n\
                  mkdir /etc/sax\nupdate-perl-sax-parsers --directory /etc/sax --add XML::LibXML::SAX::Parser\n\
                  update-perl-sax-parsers --update --file /etc/out.ini\n\
                  update-perl-sax-parsers --update --directory /etc/sax --directory /var/lib/libxml-sax-perl/ParserDetails.d --file /etc/both.ini\n";
    let (c, report) = files::compute(&tree(), &[pkg("p", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let names: Vec<&str> = c
        .files
        .iter()
        .filter_map(|(e, _)| e.path.strip_prefix("var/lib/libxml-sax-perl/ParserDetails.d/"))
        .collect();
    assert_eq!(names, ["50-XML::LibXML::SAX"]);
    assert_eq!(
        file(&c, "etc/sax/XML::LibXML::SAX::Parser").1,
        format!("[XML::LibXML::SAX::Parser]\n{NS} = 1\n\n\n").as_bytes()
    );
    assert_eq!(
        file(&c, "etc/out.ini").1,
        format!("[XML::LibXML::SAX]\n{NS} = 1\n\n\n").as_bytes()
    );
    assert_eq!(
        file(&c, "etc/both.ini").1,
        format!("[XML::LibXML::SAX::Parser]\n{NS} = 1\n\n\n[XML::LibXML::SAX]\n{NS} = 1\n\n\n").as_bytes()
    );
    assert!(
        c.files
            .iter()
            .all(|(e, _)| !e.path.starts_with("var/lib/ucf/cache/"))
    );
}

/// What the Perl code decides at run time is not guessed: a computed feature list, computed
/// parents, a module the image lacks, no definition anywhere, a parents' call no parent answers.
#[test]
fn features_only_perl_could_tell_are_reported() {
    let mut t = tree();
    let lib = "usr/share/perl5/XML/SAX";
    t.file(
        &format!("{lib}/Computed.pm"),
        b"package XML::SAX::Computed;\nuse base qw(XML::SAX::Base);\nsub supported_features {\n  return (map { \"f$_\" } 1..2);\n}\n1;\n",
    )
    .file(
        &format!("{lib}/Dyn.pm"),
        b"package XML::SAX::Dyn;\n@ISA = (base_class());\n1;\n",
    )
    .file(&format!("{lib}/None.pm"), b"package XML::SAX::None;\nsub supported_features;\nsub supported_features_more { 1 }\n1;\n")
    .file(
        &format!("{lib}/Orphan.pm"),
        b"package XML::SAX::Orphan;\nsub supported_features { return (shift->SUPER::supported_features, 'a'); }\n1;\n",
    );
    let script = "#!/bin/sh\nupdate-perl-sax-parsers --add XML::SAX::Computed\n\
                  update-perl-sax-parsers --add XML::SAX::Dyn\nupdate-perl-sax-parsers --add XML::SAX::None\n\
                  update-perl-sax-parsers --add XML::SAX::Missing\nupdate-perl-sax-parsers --add XML::SAX::Orphan\n";
    let (c, report) = files::compute(&t, &[pkg("p", script)]).unwrap();
    let got: Vec<(super::super::EffectKind, &str)> =
        report.iter().map(|r| (r.kind(), r.what.as_str())).collect();
    use super::super::EffectKind::Unsupported;
    assert_eq!(
        got,
        [
            (
                Unsupported,
                "update-perl-sax-parsers --add XML::SAX::Computed (XML::SAX::Computed::supported_features computes its list)"
            ),
            (
                Unsupported,
                "update-perl-sax-parsers --add XML::SAX::Dyn (XML::SAX::Dyn: its parent classes are computed (`@ISA = (base_class())`))"
            ),
            (
                Unsupported,
                "update-perl-sax-parsers --add XML::SAX::None (neither XML::SAX::None nor a class it inherits from defines supported_features)"
            ),
            (
                Unsupported,
                "update-perl-sax-parsers --add XML::SAX::Missing (the Perl module XML::SAX::Missing (XML/SAX/Missing.pm) is not in the image's @INC)"
            ),
            (
                Unsupported,
                "update-perl-sax-parsers --add XML::SAX::Orphan (no parent class of XML::SAX::Orphan defines supported_features)"
            ),
        ]
    );
    assert!(
        c.files
            .iter()
            .all(|(e, _)| !e.path.starts_with("var/lib/libxml-sax-perl/"))
    );
}

/// Several features, the parents' among them (libxml-sax-expat-perl 0.51-2's XML::SAX::Expat
/// adds two to XML::SAX::Base's), are written once each in byte order, as Debian's
/// `save_parsers_debian` prints a hash's `sort keys`; `qw` lists and prototypes as well.
#[test]
fn several_features_are_written_sorted_with_the_parents() {
    let mut t = tree();
    let lib = "usr/share/perl5/XML/SAX";
    t.file(
        &format!("{lib}/Expat.pm"),
        b"package XML::SAX::Expat;\nuse strict;\nuse base qw(XML::SAX::Base);\n\
          sub supported_features {\n    return (\n             $_[0]->SUPER::supported_features,\n\
                       'http://xml.org/sax/features/external-general-entities',\n\
                       'http://xml.org/sax/features/external-parameter-entities',\n           );\n}\n1;\n",
    )
    .file(
        &format!("{lib}/Two.pm"),
        b"package XML::SAX::Two;\n@ISA = qw(XML::SAX::Base);\nsub supported_features { my $self = shift; return ('b', $self->SUPER::supported_features(), 'a', 'b'); }\n1;\n",
    )
    .file(
        &format!("{lib}/Proto.pm"),
        b"package XML::SAX::Proto;\nsub supported_features() { return qw(z y); }\n1;\n",
    );
    let script = "#!/bin/sh\nupdate-perl-sax-parsers --add XML::SAX::Expat\nupdate-perl-sax-parsers --add XML::SAX::Two\n\
                  update-perl-sax-parsers --add XML::SAX::Proto --priority 5\n";
    let (c, report) = files::compute(&t, &[pkg("p", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let dir = "var/lib/libxml-sax-perl/ParserDetails.d";
    assert_eq!(
        file(&c, &format!("{dir}/50-XML::SAX::Expat")).1,
        format!(
            "[XML::SAX::Expat]\nhttp://xml.org/sax/features/external-general-entities = 1\n\
             http://xml.org/sax/features/external-parameter-entities = 1\n{NS} = 1\n\n\n"
        )
        .as_bytes()
    );
    assert_eq!(
        file(&c, &format!("{dir}/50-XML::SAX::Two")).1,
        format!("[XML::SAX::Two]\na = 1\nb = 1\n{NS} = 1\n\n\n").as_bytes()
    );
    assert_eq!(
        file(&c, &format!("{dir}/5-XML::SAX::Proto")).1,
        b"[XML::SAX::Proto]\ny = 1\nz = 1\n\n\n"
    );
}

#[test]
fn arguments_as_getoptions_reads_them() {
    let call = parse(&args("--add XML::SAX::PurePerl --priority 10")).unwrap();
    assert_eq!(
        (
            call.priority,
            call.ucf,
            call.directories.as_slice(),
            call.file.as_str()
        ),
        (
            10,
            true,
            &[PARSER_DETAILS_DIR.to_owned()][..],
            PARSER_DETAILS_FILE
        )
    );
    let call = parse(&args("-update -file=/etc/x.ini")).unwrap();
    assert_eq!(
        (call.action, call.ucf, call.file.as_str()),
        (Action::Update, false, "/etc/x.ini")
    );
    assert!(parse(&args("--update --file /etc/x --ucf 1")).unwrap().ucf);
    assert_eq!(parse(&args("--directory /d --add M")).unwrap().priority, 0);
    for bad in [
        "",
        "--add",
        "--add A --update",
        "--test --update",
        "--priority x --update",
        "update",
        "--update --file x.ini",
    ] {
        assert!(parse(&args(bad)).is_err(), "{bad}");
    }
}

/// A `qw` list beside the parents' call, with or without parentheses around the whole: each
/// word kept, the call read as the parents' list (found by review: a word was dropped, or the
/// call's parentheses taken for the list's).
#[test]
fn qw_lists_beside_the_parents_call() {
    use super::Returned::{Inherited, Literal};
    let lit = |s: &str| Literal(s.to_owned());
    for body in [
        "my $self = shift; return (qw(a b), $self->SUPER::supported_features)",
        "return qw(a b), $_[0]->SUPER::supported_features()",
    ] {
        assert_eq!(
            returned_items(body),
            Some(vec![lit("a"), lit("b"), Inherited]),
            "{body}"
        );
    }
    assert_eq!(
        returned_items("return qw(a b c)"),
        Some(vec![lit("a"), lit("b"), lit("c")])
    );
    assert_eq!(returned_items("return (map { $_ } @f)"), None);
}
