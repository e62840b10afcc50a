//! `ims.yaml`, the settings: `config.set` (under the two-manager rule, see
//! [`super::proposal`]) and what it shares with `repo.init`: writing the file in its
//! commented canonical form and setting one dotted key.

pub mod set;

use serde_json::Value;

use crate::engine::Effect;
use crate::error::{Error, Result};
use crate::model::config::{self, Config};

/// Writes `ims.yaml` in its commented canonical form.
pub(crate) fn write_config(effect: &mut Effect, config: &Config) -> Result<()> {
    let value = serde_json::to_value(config)?;
    let text = crate::yaml::emit(&value, Config::COMMENTS);
    effect.write_raw(config::PATH, text.into_bytes());
    effect.values.insert(config::PATH.to_string(), value);
    Ok(())
}

/// Sets the dotted `key` of a settings value, which may be absent when it is one of
/// [`config::new_settings`] (a repository made before it). Returns the old value.
pub(crate) fn set_path(value: &mut Value, key: &str, new: Value) -> Result<Value> {
    let parts: Vec<&str> = key.split('.').collect();
    let mut slot = value;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        slot = match slot {
            Value::Object(map) => {
                if last && !map.contains_key(*part) && config::new_settings().iter().any(|(k, _)| *k == key) {
                    map.insert(part.to_string(), Value::Null);
                }
                map.get_mut(*part)
                    .ok_or_else(|| Error::invalid(format!("config key `{key}`: ims.yaml has no `{part}` there")))?
            }
            _ => {
                return Err(Error::invalid(format!(
                    "config key `{key}`: `{part}` is inside a value that is not a mapping"
                )))
            }
        };
    }
    Ok(std::mem::replace(slot, new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Procedure;

    #[test]
    fn the_config_procedures_are_registered_and_routed() {
        crate::procedures::testing::routed(&[<set::ConfigSet as Procedure>::ID]);
    }

    #[test]
    fn set_path_returns_the_old_value_and_names_what_is_missing() {
        let mut value = serde_json::json!({"problems": {"stability_window": "7d"}});
        let old = set_path(&mut value, "problems.stability_window", Value::from("3d")).unwrap();
        assert_eq!((old, &value["problems"]["stability_window"]), (Value::from("7d"), &Value::from("3d")));
        let e = set_path(&mut value, "problems.nope", Value::from(1)).unwrap_err();
        assert_eq!(e.message, "config key `problems.nope`: ims.yaml has no `nope` there");
    }
}
