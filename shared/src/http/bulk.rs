//! A bulk invitation's body (`POST …/invitations/bulk`): JSON, `{"invitations": [...]}` with
//! each row as `POST …/invitations` takes it, or a CSV upload (`text/csv`, UTF-8, a header row
//! naming the columns, then one invitation a line). A row that cannot be read as an invitation
//! is that row's failure, never the request's: only a body that is not a list of rows at all is
//! refused whole.

use bytes::Bytes;
use http::HeaderMap;
use serde::Deserialize;

use super::body::{self, BodyError, InviteBody};
use crate::domain::{FieldError, FieldErrors, NAME_SHOWN_CHARS, ProfileInput, not_one_of};
use crate::service::bulk_invite::{BulkRow, MAX_ROWS};
use crate::service::invite::InviteCommand;
use crate::service::support::failure::Invalid;

/// The largest bulk body: a hundred rows, each with the longest note, fit several times over.
pub const MAX_BULK_BODY_BYTES: usize = 512 * 1024;

/// The columns a CSV may name, in any order and case: the fields of `POST …/invitations`.
/// `roles` and `permissions` list names separated by `;` or `,` (no name holds either).
pub const CSV_COLUMNS: [&str; 8] =
    ["email", "roles", "permissions", "first_name", "last_name", "phone", "locale", "message"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkBody {
    invitations: Vec<serde_json::Value>,
}

/// The rows of a bulk body, as JSON or CSV by its `Content-Type`.
pub fn rows(headers: &HeaderMap, body: &Bytes) -> Result<Vec<BulkRow>, BodyError> {
    if body.len() > MAX_BULK_BODY_BYTES {
        return Err(BodyError::TooLarge(MAX_BULK_BODY_BYTES));
    }
    match body::media_type(headers).as_str() {
        "text/csv" => csv_rows(body).map_err(|errors| Invalid(errors).into()),
        _ if body::is_json(headers) => {
            let BulkBody { invitations } = body::parse_within(headers, body, MAX_BULK_BODY_BYTES)?;
            // One row past the most is enough for the use case to refuse the request.
            Ok(invitations.into_iter().take(MAX_ROWS + 1).map(json_row).collect())
        }
        _ => Err(BodyError::NotJsonOrCsv),
    }
}

/// A JSON row read as the body of `POST …/invitations` is, its field errors named the same.
fn json_row(row: serde_json::Value) -> BulkRow {
    match serde_path_to_error::deserialize::<_, InviteBody>(row) {
        Ok(invitation) => Ok(invitation.into()),
        Err(error) => {
            let error = body::field_error(&error);
            let field = if error.field.is_empty() { "row".to_owned() } else { error.field };
            Err(FieldError { field, ..error }.into())
        }
    }
}

/// The rows of a CSV, after its header. A header naming a column twice, a column that is not
/// one of `CSV_COLUMNS`, or no `email` column, refuses the whole file; a line with more or
/// fewer cells than the header is that row's failure. A spreadsheet's byte order mark, its
/// blank lines and its lines of empty cells are skipped. The cells are separated by commas, or
/// by semicolons when the header has no comma (a spreadsheet in a locale whose decimal mark is
/// a comma saves them so).
fn csv_rows(body: &[u8]) -> Result<Vec<BulkRow>, FieldErrors> {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let header_line = body.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if header_line.contains(&b',') || !header_line.contains(&b';') { b',' } else { b';' };
    let mut reader = csv::ReaderBuilder::new().flexible(true).delimiter(delimiter).from_reader(body);
    let header = reader.headers().map_err(unreadable)?.clone();
    let columns = columns(&header)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(unreadable)?;
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        rows.push(csv_row(&columns, &record));
        // One row past the most is enough for the use case to refuse the request.
        if rows.len() > MAX_ROWS {
            break;
        }
    }
    Ok(rows)
}

/// Which of `CSV_COLUMNS` each cell of a line is, from the header row; a column with a blank
/// name (a spreadsheet's trailing separator) is none, and its cells are left out. Unknown and
/// repeated columns are one field error each, however many there are.
fn columns(header: &csv::StringRecord) -> Result<Vec<Option<&'static str>>, FieldErrors> {
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    let (mut unknown, mut repeated) = (Vec::new(), std::collections::BTreeSet::new());
    let names: Vec<String> = header.iter().map(|name| name.trim().to_ascii_lowercase()).collect();
    for name in &names {
        match CSV_COLUMNS.iter().find(|column| *column == name) {
            Some(column) if columns.contains(&Some(column)) => {
                repeated.insert(*column);
            }
            Some(column) => columns.push(Some(column)),
            None if name.is_empty() => columns.push(None),
            None => unknown.push(name.as_str()),
        }
    }
    let mut errors = FieldErrors::default();
    if let Some(first) = unknown.first() {
        let field: String = first.chars().take(NAME_SHOWN_CHARS).collect();
        let known = CSV_COLUMNS.join(", ");
        let message = format!("{} of a bulk invitation: use {known}.", not_one_of(&unknown, "a column"));
        errors.push(FieldError::new(&field, "unknown_field", message));
    }
    if let Some(first) = repeated.first() {
        let repeated: Vec<&str> = repeated.iter().copied().collect();
        let message =
            format!("The header names {} more than once: give each column once.", repeated.join(", "));
        errors.push(FieldError::new(first, "duplicate_key", message));
    }
    if !columns.contains(&Some("email")) {
        errors.push(FieldError::new("email", "required", "The header row names no `email` column."));
    }
    errors.finish(|| columns)
}

/// A line of the CSV as an invitation: its cells trimmed, a blank cell left out.
fn csv_row(columns: &[Option<&'static str>], record: &csv::StringRecord) -> BulkRow {
    if record.len() != columns.len() {
        let error = FieldError::new(
            "row",
            "invalid_value",
            format!("This line has {} cells; the header names {} columns.", record.len(), columns.len()),
        );
        return Err(error.into());
    }
    let cell = |name: &str| {
        let at = columns.iter().position(|column| *column == Some(name))?;
        Some(record[at].trim().to_owned()).filter(|value| !value.is_empty())
    };
    let names = |name: &str| {
        cell(name).map_or_else(Vec::new, |cell| {
            cell.split([';', ',']).map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect()
        })
    };
    Ok(InviteCommand {
        email: cell("email").unwrap_or_default(),
        roles: names("roles"),
        permissions: names("permissions"),
        profile: ProfileInput {
            first_name: cell("first_name"),
            last_name: cell("last_name"),
            phone: cell("phone"),
        },
        locale: cell("locale"),
        message: cell("message"),
    })
}

/// A file the CSV reader cannot read at all: not UTF-8, most often.
fn unreadable(error: csv::Error) -> FieldErrors {
    let detail = match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "The file is not UTF-8: save it as \"CSV UTF-8\".".to_owned(),
        _ => format!("The file is not a CSV this route reads: {error}."),
    };
    FieldError::new("body", "malformed_csv", detail).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Vec<BulkRow>, FieldErrors> {
        csv_rows(text.as_bytes())
    }

    fn field_errors(errors: FieldErrors) -> Vec<(String, &'static str)> {
        errors.into_vec().into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn a_spreadsheets_file_reads_as_invitations() {
        // Given a file saved by a spreadsheet: a byte order mark, columns in its own order and
        // case, a quoted note with a comma and a line break, a blank line, a line of empty cells,
        // a trailing separator
        let file = "\u{feff}Email,First_Name,roles,message,\r\n\
                    anna@shop.example,Anna,finance; operations,\"Hi, Anna\nwelcome\",\r\n\
                    \r\n\
                    ,,,,\r\n\
                    olek@shop.example,,viewer,,\r\n";
        // Then each line is an invitation, blank cells left out
        let rows = csv(file).unwrap();
        assert_eq!(rows.len(), 2);
        let anna = rows[0].as_ref().unwrap();
        assert_eq!(anna.email, "anna@shop.example");
        assert_eq!(anna.roles, ["finance", "operations"]);
        assert_eq!(anna.profile.first_name.as_deref(), Some("Anna"));
        assert_eq!(anna.message.as_deref(), Some("Hi, Anna\nwelcome"));
        let olek = rows[1].as_ref().unwrap();
        assert_eq!((olek.profile.first_name.as_ref(), olek.message.as_ref()), (None, None));
    }

    #[test]
    fn a_file_saved_with_semicolons_lists_names_with_commas() {
        let rows = csv("email;roles\r\nanna@shop.example;\"finance, operations\"\r\n").unwrap();
        assert_eq!(rows[0].as_ref().unwrap().roles, ["finance", "operations"]);
    }

    #[test]
    fn a_header_that_names_no_email_or_an_unknown_column_refuses_the_file() {
        let errors = csv("name,roles,roles\nanna,viewer,viewer\n").unwrap_err();
        assert_eq!(
            field_errors(errors),
            [
                ("name".into(), "unknown_field"),
                ("roles".into(), "duplicate_key"),
                ("email".into(), "required")
            ]
        );
    }

    #[test]
    fn a_header_of_thousands_of_bad_columns_is_two_short_errors() {
        let header = format!("email,{}{}\n", "nope,".repeat(20_000), "roles,".repeat(20_000));
        let errors = csv(&header).unwrap_err().into_vec();
        assert_eq!(errors.len(), 2);
        assert!(errors.iter().all(|e| e.message.len() < 500), "{errors:?}");
    }

    #[test]
    fn a_line_with_a_cell_too_many_fails_alone() {
        let rows = csv("email,roles\na@shop.example,viewer,extra\nb@shop.example,viewer\n").unwrap();
        assert_eq!(field_errors(rows[0].as_ref().unwrap_err().0.clone()), [("row".into(), "invalid_value")]);
        assert!(rows[1].is_ok());
    }

    #[test]
    fn a_file_not_in_utf8_says_how_to_save_it() {
        let errors = csv_rows(b"email,roles\n\xe9@shop.example,viewer\n").unwrap_err();
        assert_eq!(field_errors(errors), [("body".into(), "malformed_csv")]);
    }

    #[test]
    fn a_json_row_of_the_wrong_shape_fails_alone_with_its_field() {
        let row = |value| json_row(value).map(|_| ()).unwrap_err().0.into_vec();
        assert_eq!(row(serde_json::json!({"email": "a@shop.example", "roles": "viewer"}))[0].field, "roles");
        assert_eq!(row(serde_json::json!({"email": "a@shop.example"}))[0].code, "required");
        assert_eq!(row(serde_json::json!("a@shop.example"))[0].field, "row");
        assert!(json_row(serde_json::json!({"email": "a@shop.example", "roles": ["viewer"]})).is_ok());
    }
}
