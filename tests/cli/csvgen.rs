//! A ServiceNow-style incident audit export (one row per state change), generated with
//! what each incident's KPIs must come out as: shared by the import test and the import
//! benchmark.

#![allow(dead_code)]

/// What one generated incident must become, in seconds since the epoch.
pub struct Expected {
    pub number: String,
    pub created: i64,
    pub acked: i64,
    pub resolved: i64,
    pub escalated: bool,
}

/// The mapping for [`generate`]'s export, as a user would write it.
pub const MAPPING: &str = "\
rows: events
columns:
  id: number
  time: sys_updated_on
  state: incident_state
  priority: priority
  category: category
  group: assignment_group
  reporter: caller_id
  assignee: assigned_to
  actor: sys_updated_by
  title: short_description
  service: cmdb_ci
time_format: '%Y-%m-%d %H:%M:%S'
timezone: UTC
states:
  New: open
  In Progress: in_progress
  On Hold: pending_vendor
  Resolved: resolved
  Closed: closed
priorities:
  1 - Critical: high
  2 - High: high
  3 - Moderate: medium
  4 - Low: low
categories:
  Software: software
  Hardware: hardware
  Network: other
teams:
  Service Desk: service_desk
  Network L2: L2
  Database L3: L3
";

struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn stamp(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).unwrap().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `n` incidents from 2025-01-01, six rows each on average, rows shuffled within each day.
pub fn generate(n: usize, seed: u64) -> (String, Vec<Expected>) {
    let mut rng = Rng(seed);
    let start = 1_735_689_600; // 2025-01-01T00:00:00Z
    let mut rows: Vec<(i64, String)> = Vec::new();
    let mut expected = Vec::new();
    let priorities = ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low"];
    let categories = ["Software", "Hardware", "Network"];
    for i in 0..n {
        let number = format!("INC{i:07}");
        let created = start + (i as i64) * 1800 + rng.next(1200) as i64;
        let prio = priorities[rng.next(4) as usize];
        let cat = categories[rng.next(3) as usize];
        let caller = format!("Caller {}", rng.next(50));
        let mut row = |t: i64, state: &str, group: &str, who: &str| {
            rows.push((
                t,
                format!(
                    "{number},{},{state},{prio},{cat},{group},{caller},{who},agent{},\"Printer, floor {}\",svc-{}\n",
                    stamp(t),
                    i % 9,
                    i % 7,
                    i % 5
                ),
            ));
        };
        row(created, "New", "Service Desk", "");
        let acked = created + 60 * (1 + rng.next(120) as i64);
        row(acked, "In Progress", "Service Desk", "Sam Desk");
        // A work note: a row that changes nothing the mapping reads.
        row(acked + 120, "In Progress", "Service Desk", "Sam Desk");
        let mut t = acked + 120;
        let escalated = rng.next(10) < 3;
        if escalated {
            t += 60 * (5 + rng.next(60) as i64);
            row(t, "In Progress", "Network L2", "Nia Net");
        }
        if rng.next(8) < 2 {
            t += 60 * (10 + rng.next(200) as i64);
            row(t, "On Hold", if escalated { "Network L2" } else { "Service Desk" }, "Sam Desk");
            t += 60 * (10 + rng.next(200) as i64);
            row(t, "In Progress", if escalated { "Network L2" } else { "Service Desk" }, "Sam Desk");
        }
        let group = if escalated { "Network L2" } else { "Service Desk" };
        let mut resolved = t + 60 * (10 + rng.next(600) as i64);
        row(resolved, "Resolved", group, "Sam Desk");
        if rng.next(10) == 0 {
            // Reopened: the resolution that counts is the final one.
            row(resolved + 3600, "In Progress", group, "Sam Desk");
            resolved += 3600 + 60 * (10 + rng.next(300) as i64);
            row(resolved, "Resolved", group, "Sam Desk");
        }
        row(resolved + 3 * 86_400, "Closed", group, "Sam Desk");
        expected.push(Expected { number, created, acked, resolved, escalated });
    }
    // Exports are not in time order: shuffle within each day.
    rows.sort_by_key(|(t, line)| (t / 86_400, line.len() as i64 * 7919 % 101));
    let mut csv = String::from(
        "number,sys_updated_on,incident_state,priority,category,assignment_group,caller_id,assigned_to,sys_updated_by,short_description,cmdb_ci,work_notes\n",
    );
    for (_, line) in rows {
        // One column the mapping does not use: it must not reach the archive.
        csv.push_str(&line.replace('\n', ",internal note\n"));
    }
    (csv, expected)
}
