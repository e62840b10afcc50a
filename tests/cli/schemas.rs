//! Schemas are data and are tested as data: every valid fixture must pass its schema,
//! and every invalid one must fail, each named after the rule it breaks.

use std::path::Path;

fn fixtures(kind: &str) -> Vec<(String, serde_json::Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas").join(kind);
    let mut out: Vec<(String, serde_json::Value)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            let value = ims::yaml::to_value(&text, &name).unwrap_or_else(|e| panic!("{name}: not YAML: {e}"));
            (name, value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn valid_fixtures_pass() {
    let all = fixtures("valid");
    for (name, value) in &all {
        ims::schema::validate(value, name).unwrap_or_else(|e| panic!("{e}"));
    }
    // One at least for every record type.
    for (schema, _) in ims::schema::SCHEMAS {
        let ty = schema.split('/').next().unwrap();
        assert!(all.iter().any(|(n, _)| n.starts_with(&format!("{ty}-"))), "no valid fixture for {schema}");
    }
}

#[test]
fn invalid_fixtures_fail() {
    let all = fixtures("invalid");
    assert!(all.len() >= 20);
    for (name, value) in &all {
        let err = ims::schema::validate(value, name).expect_err(&format!("{name} should fail its schema"));
        assert_eq!(err.kind, ims::error::Kind::Invalid, "{name}");
    }
}

#[test]
fn canonical_fixtures_are_in_canonical_form() {
    // Files ims wrote (the fixture history's records) serialise back to the same bytes.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/valid");
    for name in ["incident-closed-high.yaml", "person-revoked.yaml", "proposal-decided.yaml"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let value = ims::yaml::to_value(&text, name).unwrap();
        assert_eq!(ims::yaml::emit(&value, &[]), text, "{name}");
    }
}
