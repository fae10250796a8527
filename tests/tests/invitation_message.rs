//! An invitation's personal note (README, "What it does"): plain text of at most 500
//! characters from the inviter, in the invitation's mail and on its activation page, kept when
//! the invitation is sent again.

use serde_json::{Value, json};
use tests::app::{Owner, TestApp};

const NOTE: &str = "Hi Anna! Welcome to the <b>warehouse</b> team.\nYour link: {link}";

async fn invite_with(app: &TestApp, owner: &Owner, email: &str, message: Value) -> tests::app::Reply {
    let body = json!({"email": email, "roles": ["viewer"], "message": message});
    app.post_as(&owner.token, &format!("{}/invitations", owner.account_path()), body).await
}

/// The mail's body as sent: its text, or its HTML where the mailbox keeps that.
fn shows_the_note_as_text(body: &str) -> bool {
    if body.contains("<html") {
        body.contains("Hi Anna! Welcome to the &lt;b&gt;warehouse&lt;/b&gt; team.<br>")
            && !body.contains("<b>warehouse")
    } else {
        body.contains(NOTE)
    }
}

async fn the_invitee_reads_the_inviters_note_in_the_mail_and_on_the_page(app: TestApp) {
    // Given an owner who invites Anna with a note of two lines, with markup and a placeholder in it
    let owner = app.owner("standard", "owner@note.example").await;
    let invited = invite_with(&app, &owner, "anna@note.example", json!(format!("  {NOTE}\r\n"))).await;

    // Then the invitation holds the note trimmed, its line breaks as written
    assert_eq!(invited.status, 201, "{}", invited.body);
    assert_eq!(invited.body["message"], NOTE);

    // And the mail carries it as text, never as markup or as a filled-in placeholder
    let mail = app.mail_to("anna@note.example").await;
    let body = mail[0]["text"].as_str().expect("a body");
    assert!(shows_the_note_as_text(body), "{body}");
    assert_eq!(mail[0]["links"].as_array().map(Vec::len), Some(1), "only the invitation's own link: {body}");

    // And the activation page's inspection gives it, as the list does
    let token = app.link_token("anna@note.example").await;
    let inspected = app.post("/v1/invitations/inspect", json!({ "token": token })).await;
    assert_eq!(inspected.body["message"], NOTE, "{}", inspected.body);
    let listed = app.get_as(&owner.token, &format!("{}/invitations", owner.account_path())).await;
    let anna = listed.body["items"].as_array().unwrap().iter().find(|i| i["email"] == "anna@note.example");
    assert_eq!(anna.map(|i| &i["message"]), Some(&json!(NOTE)));
}

async fn a_note_survives_a_resend_of_a_revoked_invitation(app: TestApp) {
    // Given an invitation with a note, revoked
    let owner = app.owner("standard", "owner@note-resend.example").await;
    let invited = invite_with(&app, &owner, "bohdan@note-resend.example", json!(NOTE)).await;
    let path = format!("{}/invitations/{}", owner.account_path(), invited.str("id"));
    assert_eq!(app.post_as(&owner.token, &format!("{path}/revoke"), json!({})).await.status, 200);

    // When it is sent again
    let resent = app.post_as(&owner.token, &format!("{path}/resend"), json!({})).await;

    // Then the new invitation and its mail carry the same note
    assert!(resent.status == 200 || resent.status == 201, "{}", resent.body);
    assert_eq!(resent.body["message"], NOTE, "{}", resent.body);
    let mail = app.mail_to("bohdan@note-resend.example").await;
    assert_eq!(mail.len(), 2);
    assert!(shows_the_note_as_text(mail[0]["text"].as_str().unwrap()), "{}", mail[0]["text"]);
}

async fn a_note_too_long_or_hiding_characters_is_refused_and_nothing_is_sent(app: TestApp) {
    // Given an owner
    let owner = app.owner("standard", "owner@note-refused.example").await;

    for (message, code) in [
        // When the note is 501 characters, hides a right-to-left override, or is not text
        (json!("ї".repeat(501)), "invalid_value"),
        (json!("Open invoice\u{202E}fdp.exe"), "invalid_value"),
        (json!(42), "invalid_value"),
    ] {
        let refused = invite_with(&app, &owner, "chen@note-refused.example", message.clone()).await;

        // Then the invitation is refused on `message`
        assert_eq!(
            (refused.status, refused.code()),
            (400, "validation_failed"),
            "{message}: {}",
            refused.body
        );
        assert_eq!(refused.field_errors(), [("message".to_owned(), code.to_owned())], "{message}");
    }

    // And nothing was written or mailed; a note of exactly 500 characters, or an empty one, is fine
    assert!(app.mail_to("chen@note-refused.example").await.is_empty());
    let longest = invite_with(&app, &owner, "chen@note-refused.example", json!("ї".repeat(500))).await;
    assert_eq!(longest.status, 201, "{}", longest.body);
    let blank = invite_with(&app, &owner, "dara@note-refused.example", json!("  \n ")).await;
    assert_eq!((blank.status, &blank.body["message"]), (201, &Value::Null), "{}", blank.body);
}

tests::scenarios!(
    the_invitee_reads_the_inviters_note_in_the_mail_and_on_the_page,
    a_note_survives_a_resend_of_a_revoked_invitation,
    a_note_too_long_or_hiding_characters_is_refused_and_nothing_is_sent,
);
