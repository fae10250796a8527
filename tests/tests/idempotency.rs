//! `Idempotency-Key`: a request that creates something, sent again with its key, answers what it
//! first answered and creates and mails nothing more; the key is the caller's and the request's.

use serde_json::{Value, json};
use tests::app::{Owner, TestApp};

tests::scenarios!(
    an_invitation_sent_again_with_its_key_is_answered_as_before_and_mailed_once,
    twin_invitations_sent_at_once_with_one_key_make_one_invitation,
    a_key_sent_with_another_request_is_refused_and_changes_nothing,
    a_key_is_its_callers_own,
    an_account_created_again_with_its_key_is_the_same_account,
    a_key_is_forgotten_after_a_day,
    a_malformed_key_is_a_field_error,
    a_resend_sent_again_with_its_key_mails_one_new_link,
    an_owner_recovery_sent_again_with_its_key_mails_one_link,
    the_same_request_serialized_again_is_the_same_request,
    an_answer_is_given_again_only_while_the_caller_may_still_ask,
);

fn invitations(owner: &Owner) -> String {
    format!("{}/invitations", owner.account_path())
}

async fn pending_to(app: &TestApp, owner: &Owner, email: &str) -> Vec<Value> {
    let listed = app.get_as(&owner.token, &format!("{}?email={email}", invitations(owner))).await;
    listed.body["items"].as_array().cloned().unwrap_or_default()
}

async fn an_invitation_sent_again_with_its_key_is_answered_as_before_and_mailed_once(app: TestApp) {
    // Given an invitation made with a key
    let owner = app.owner("standard", "owner@once.example").await;
    let body = json!({"email": "olena@once.example", "roles": ["viewer"]});
    let first = app.post_once(Some(&owner.token), &invitations(&owner), "key-1", body.clone()).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());

    // When the client sends it again with the same key (it never saw the answer)
    let again = app.post_once(Some(&owner.token), &invitations(&owner), "key-1", body).await;

    // Then the first answer comes back, marked, and nothing more was made or mailed
    assert_eq!((again.status, &again.body), (201, &first.body));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(pending_to(&app, &owner, "olena@once.example").await.len(), 1);
    assert_eq!(app.mail_to("olena@once.example").await.len(), 1);
}

async fn twin_invitations_sent_at_once_with_one_key_make_one_invitation(app: TestApp) {
    let owner = app.owner("standard", "owner@twins.example").await;
    let body = json!({"email": "twin@twins.example", "roles": ["viewer"]});
    let path = invitations(&owner);

    let answers = futures::future::join_all(
        (0..4).map(|_| app.post_once(Some(&owner.token), &path, "twin-key", body.clone())),
    )
    .await;

    // Then each answer is the one invitation: a twin whose write lost gets the winner's answer
    let created: Vec<Value> = answers
        .into_iter()
        .map(|answer| {
            assert_eq!(answer.status, 201, "{}", answer.body);
            answer.body
        })
        .collect();
    assert!(created.iter().all(|body| *body == created[0]), "{created:?}");
    assert_eq!(pending_to(&app, &owner, "twin@twins.example").await.len(), 1);
    assert_eq!(app.mail_to("twin@twins.example").await.len(), 1);
}

async fn a_key_sent_with_another_request_is_refused_and_changes_nothing(app: TestApp) {
    let owner = app.owner("standard", "owner@reused.example").await;
    let path = invitations(&owner);
    let first = json!({"email": "first@reused.example", "roles": ["viewer"]});
    assert_eq!(app.post_once(Some(&owner.token), &path, "reused", first).await.status, 201);

    let other = json!({"email": "second@reused.example", "roles": ["viewer"]});
    let refused = app.post_once(Some(&owner.token), &path, "reused", other).await;

    assert_eq!((refused.status, refused.code()), (422, "idempotency_key_reused"), "{}", refused.body);
    assert!(pending_to(&app, &owner, "second@reused.example").await.is_empty());
    assert!(app.mail_to("second@reused.example").await.is_empty());
}

async fn a_key_is_its_callers_own(app: TestApp) {
    // Given two owners whose clients happen to pick the same key
    let first = app.owner("standard", "first@scoped.example").await;
    let second = app.owner("standard", "second@scoped.example").await;
    let body = |email: &str| json!({"email": email, "roles": ["viewer"]});

    let mine =
        app.post_once(Some(&first.token), &invitations(&first), "shared", body("a@scoped.example")).await;
    let theirs =
        app.post_once(Some(&second.token), &invitations(&second), "shared", body("b@scoped.example")).await;

    // Then each made their own invitation: no answer crosses over
    assert_eq!((mine.status, theirs.status), (201, 201), "{} {}", mine.body, theirs.body);
    assert_ne!(mine.body["id"], theirs.body["id"]);
    assert_eq!(theirs.body["email"], "b@scoped.example");
}

async fn an_account_created_again_with_its_key_is_the_same_account(app: TestApp) {
    let body = json!({"name": "Once Shop", "owner_email": "owner@once-account.example", "preset": "ozon"});

    let first = app.post_once(None, "/v1/operator/accounts", "account-1", body.clone()).await;
    let again = app.post_once(None, "/v1/operator/accounts", "account-1", body).await;

    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!((again.status, &again.body), (201, &first.body));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.mail_to("owner@once-account.example").await.len(), 1, "one owner link");
}

async fn a_key_is_forgotten_after_a_day(app: TestApp) {
    let owner = app.owner("standard", "owner@forgotten.example").await;
    let path = invitations(&owner);
    let body = json!({"email": "late@forgotten.example", "roles": ["viewer"]});
    assert_eq!(app.post_once(Some(&owner.token), &path, "day-key", body.clone()).await.status, 201);

    app.advance_clock(24 * 3600 + 60).await;
    let token = app.signed_in_again(owner).await;
    let again = app.post_once(Some(&token.token), &path, "day-key", body).await;

    // Then the request is made again, as any new one: the invitation is still pending (or has
    // lapsed and is replaced), never a replay of yesterday's answer
    assert!(again.headers.get("idempotent-replayed").is_none(), "{}", again.body);
}

async fn a_malformed_key_is_a_field_error(app: TestApp) {
    let owner = app.owner("standard", "owner@malformed.example").await;
    let body = json!({"email": "x@malformed.example", "roles": ["viewer"]});

    let refused = app.post_once(Some(&owner.token), &invitations(&owner), "two words", body).await;

    assert_eq!((refused.status, refused.code()), (400, "validation_failed"), "{}", refused.body);
    assert_eq!(refused.field_errors(), [("Idempotency-Key".to_owned(), "invalid_value".to_owned())]);
    assert!(app.mail_to("x@malformed.example").await.is_empty());
}

async fn a_resend_sent_again_with_its_key_mails_one_new_link(app: TestApp) {
    // Given an invitation the owner resends with a key
    let owner = app.owner("standard", "owner@once-resend.example").await;
    let invited = app.invite(&owner, "slow@once-resend.example", &["viewer"]).await;
    let path = format!("{}/{}/resend", invitations(&owner), invited["id"].as_str().unwrap());
    let first = app.post_once(Some(&owner.token), &path, "resend-1", json!({})).await;
    assert_eq!(first.status, 200, "{}", first.body);

    // When the resend is sent again with its key
    let again = app.post_once(Some(&owner.token), &path, "resend-1", json!({})).await;

    // Then it answers as before, and one new link went out, not two
    assert_eq!((again.status, &again.body), (200, &first.body));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(first.body["send_count"], 2);
    assert_eq!(app.mail_to("slow@once-resend.example").await.len(), 2, "the invitation and one resend");
    let newest = app.link_token("slow@once-resend.example").await;
    let inspected = app.post("/v1/invitations/inspect", json!({"token": newest})).await;
    assert_eq!(inspected.status, 200, "the link mailed last works: {}", inspected.body);
}

async fn an_owner_recovery_sent_again_with_its_key_mails_one_link(app: TestApp) {
    // Given an account whose owner never activated, and an operator moving the link to a new email
    let created = app.create_account("standard", "lost@once-recovery.example").await;
    let account = created.body["account"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/operator/accounts/{account}/owner-recovery");
    let body = json!({"new_email": "found@once-recovery.example"});
    let first = app.post_once(None, &path, "recovery-1", body.clone()).await;
    assert_eq!(first.status, 202, "{}", first.body);

    // When the operator's client sends it again with its key
    let again = app.post_once(None, &path, "recovery-1", body).await;

    // Then it answers as before, and one link went out, which works
    assert_eq!((again.status, &again.body), (202, &first.body));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.mail_to("found@once-recovery.example").await.len(), 1);
    let link = app.link_token("found@once-recovery.example").await;
    assert_eq!(app.post("/v1/invitations/inspect", json!({"token": link})).await.status, 200);
}

async fn the_same_request_serialized_again_is_the_same_request(app: TestApp) {
    let owner = app.owner("standard", "owner@reordered.example").await;
    let path = invitations(&owner);
    let first = app
        .post_raw_once(
            &owner.token,
            &path,
            "reordered",
            r#"{"email":"x@reordered.example","roles":["viewer"]}"#,
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);

    let again = app
        .post_raw_once(
            &owner.token,
            &path,
            "reordered",
            "{ \"roles\": [\"viewer\"],\n  \"email\": \"x@reordered.example\" }",
        )
        .await;

    assert_eq!((again.status, &again.body), (201, &first.body));
    assert_eq!(again.headers["idempotent-replayed"], "true");
}

async fn an_answer_is_given_again_only_while_the_caller_may_still_ask(app: TestApp) {
    // Given an administrator who invited someone with a key
    let owner = app.owner("standard", "owner@once-demoted.example").await;
    let admin = app.member(&owner, "admin@once-demoted.example", &["administrator"], &[]).await;
    let body = json!({"email": "new@once-demoted.example", "roles": ["viewer"]});
    let first = app.post_once(Some(&admin), &invitations(&owner), "demoted", body.clone()).await;
    assert_eq!(first.status, 201, "{}", first.body);

    // When the owner takes user management away, and the administrator's client sends it again
    let admin_id = app.member_id(&owner, "admin@once-demoted.example").await;
    let roles = format!("{}/members/{admin_id}/roles", owner.account_path());
    let demoted = app.put_as(&owner.token, &roles, json!({"roles": ["viewer"], "permissions": []})).await;
    assert_eq!(demoted.status, 200, "{}", demoted.body);
    let again = app.post_once(Some(&admin), &invitations(&owner), "demoted", body).await;

    // Then the answer is not given: the request is refused as any request of theirs would be
    assert_eq!((again.status, again.code()), (403, "forbidden"), "{}", again.body);
}
