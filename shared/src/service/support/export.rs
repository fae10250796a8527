//! The audit log as a file: CSV for a spreadsheet, NDJSON for a program. Each page is a whole
//! file of its own (the CSV with its header row).

use serde::Deserialize;

use crate::domain::AuditEvent;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    #[default]
    Csv,
    Ndjson,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Ndjson => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
        }
    }
}

/// The CSV's columns, in order: the event's fields as the list gives them, `details` as
/// compact JSON.
pub const CSV_COLUMNS: [&str; 7] = ["at", "action", "actor_id", "target_type", "target_id", "id", "details"];

pub fn render(format: ExportFormat, events: &[AuditEvent]) -> String {
    match format {
        ExportFormat::Csv => csv(events),
        ExportFormat::Ndjson => events.iter().map(|e| json(e) + "\n").collect(),
    }
}

/// RFC 4180, every cell quoted, lines ended by CRLF; a byte-order mark first, so that Excel
/// reads the names in it (Cyrillic, Polish) as UTF-8.
fn csv(events: &[AuditEvent]) -> String {
    let mut out = String::from("\u{feff}");
    let mut line = |cells: &[&str]| {
        let quoted: Vec<String> =
            cells.iter().map(|c| format!("\"{}\"", spreadsheet_safe(c).replace('"', "\"\""))).collect();
        out.push_str(&quoted.join(","));
        out.push_str("\r\n");
    };
    line(&CSV_COLUMNS);
    for event in events {
        let (at, action, target_type) = (json(&event.at), json(&event.action), json(&event.target_type));
        line(&[
            at.trim_matches('"'),
            action.trim_matches('"'),
            event.actor_id.as_ref().map_or("", |a| a.as_str()),
            target_type.trim_matches('"'),
            &event.target_id,
            event.id.as_str(),
            &json(&event.details),
        ]);
    }
    out
}

/// A cell a spreadsheet shows as text: one that would start a formula (`=`, `+`, `-`, `@`, or a
/// tab or carriage return before one) gets a leading apostrophe, which Excel, LibreOffice and
/// Google Sheets all show as text.
fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}").into() } else { cell.into() }
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("audit events serialize")
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn a_cell_that_would_start_a_formula_is_shown_as_text() {
        for formula in ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(spreadsheet_safe(formula), format!("'{formula}"));
        }
        for text in ["member.blocked", "0190a8c2-7e1c-7000-8000-000000000000", "{\"roles\":[]}", ""] {
            assert_eq!(spreadsheet_safe(text), text);
        }
    }
}
