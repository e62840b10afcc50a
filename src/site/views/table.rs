//! The view model of the record lists (`problems/`, `changes/`, `kb/`, `pir/` and
//! `reports/index.html`, template `list.html`): a heading, the column names and one row
//! per record, its first cell linking to the record's page; the knowledge base's list
//! also has the search box.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct TablePage {
    pub heading: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<TableRow>,
    /// Whether the page has the search box (the knowledge base's list).
    pub search: bool,
}

#[derive(Debug, Serialize)]
pub struct TableRow {
    /// The row's anchor (a record id).
    pub id: String,
    /// The record's page, relative to the list.
    pub href: String,
    pub cells: Vec<String>,
}

impl TableRow {
    /// The row of record `id`, whose page is `id.html` beside the list.
    pub fn new(id: &str, cells: Vec<String>) -> TableRow {
        TableRow { id: id.to_string(), href: format!("{id}.html"), cells }
    }
}
