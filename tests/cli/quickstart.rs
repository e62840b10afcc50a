//! The README's quick start is what `scripts/quickstart.sh` prints: this test runs the
//! script with the binary under test and compares, with ids, commits, fingerprints and
//! the temporary directory masked. `IMS_BLESS=1` rewrites the README's block from the
//! script's output instead (then commit the README).

use std::path::Path;

use crate::support::ims_bin;

const START: &str = "```text\n$ ssh-keygen";

fn mask(text: &str) -> String {
    let rules = [
        (r"/tmp/[^\s/]+/records", "<tmp>/records"),
        (r"INC-\d{8}-[0-9A-Z]{10}", "<incident>"),
        (r"INC-\d{8}-[0-9A-Z]{3}\b", "<incident prefix>"),
        (r"\b[0-9a-f]{40}\b", "<commit>"),
        (r"\b[0-9a-f]{10}\b", "<commit10>"),
        (r"(?m)^[0-9a-f]{7} ", "<commit7> "),
        (r"SHA256:[A-Za-z0-9+/]{43}", "SHA256:<fingerprint>"),
    ];
    let mut out = text.to_string();
    for (pattern, with) in rules {
        out = regex::Regex::new(pattern).unwrap().replace_all(&out, with).into_owned();
    }
    out
}

#[test]
fn the_readme_quick_start_is_what_the_script_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/quickstart.sh"))
        .env("IMS_BIN", ims_bin())
        .env_remove("IMS_NOW")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    let printed = printed.trim_start_matches('\n');
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let start = readme.find(START).expect("the quick start block") + "```text\n".len();
    let end = start + readme[start..].find("\n```\n").expect("its end") + 1;
    if std::env::var_os("IMS_BLESS").is_some() {
        std::fs::write(&readme_path, format!("{}{}{}", &readme[..start], printed, &readme[end..])).unwrap();
        return;
    }
    let (want, got) = (mask(&readme[start..end]), mask(printed));
    if want != got {
        let first = want.lines().zip(got.lines()).position(|(a, b)| a != b);
        panic!(
            "the README's quick start differs from scripts/quickstart.sh (run with IMS_BLESS=1 to regenerate it);\n\
             first differing line {first:?}:\nREADME: {:?}\nscript: {:?}",
            first.and_then(|i| want.lines().nth(i)),
            first.and_then(|i| got.lines().nth(i))
        );
    }
}
