//! Seat limits (README, "Seats"): the operator caps an account's members, the owner and every
//! pending invitation included; an invitation past the cap is refused, even when many race for
//! the last seat, and a seat comes back when a member or an invitation goes.

use futures::future::join_all;
use serde_json::{Value, json};
use tests::app::{Owner, TestApp};

async fn seats(app: &TestApp, owner: &Owner) -> (Value, Value) {
    let account = app.get_as(&owner.token, &owner.account_path()).await;
    assert_eq!(account.status, 200, "{}", account.body);
    (account.body["seats_used"].clone(), account.body["max_members"].clone())
}

async fn invite(app: &TestApp, owner: &Owner, email: &str) -> tests::app::Reply {
    let body = json!({"email": email, "roles": ["viewer"]});
    app.post_as(&owner.token, &format!("{}/invitations", owner.account_path()), body).await
}

async fn every_member_pending_invitation_and_the_owner_take_a_seat(app: TestApp) {
    // Given an account limited to three seats, with its owner, one member and one pending invitation
    let owner = app.owner("standard", "owner@seats.example").await;
    let limited = app.seat_limit(&owner.account_id, Some(3)).await;
    assert_eq!((limited.status, &limited.body["seats_used"]), (200, &json!(1)), "{}", limited.body);
    app.member(&owner, "bohdan@seats.example", &["viewer"], &[]).await;
    let pending = invite(&app, &owner, "anna@seats.example").await;
    assert_eq!(pending.status, 201, "{}", pending.body);
    assert_eq!(seats(&app, &owner).await, (json!(3), json!(3)));

    // When the owner invites a fourth person
    let refused = invite(&app, &owner, "chen@seats.example").await;

    // Then it is refused, and nothing was written or mailed for them
    assert_eq!((refused.status, refused.code()), (409, "seat_limit_reached"), "{}", refused.body);
    assert!(app.mail_to("chen@seats.example").await.is_empty());
    let listed = app.get_as(&owner.token, &format!("{}/invitations", owner.account_path())).await;
    let items = listed.body["items"].as_array().expect("items");
    assert!(items.iter().all(|i| i["email"] != "chen@seats.example"), "{}", listed.body);

    // And once the pending invitation is revoked, its seat is free for Chen
    let revoke = format!("{}/invitations/{}/revoke", owner.account_path(), pending.str("id"));
    assert_eq!(app.post_as(&owner.token, &revoke, json!({})).await.status, 200);
    assert_eq!(seats(&app, &owner).await, (json!(2), json!(3)));
    assert_eq!(invite(&app, &owner, "chen@seats.example").await.status, 201);
    assert_eq!(seats(&app, &owner).await, (json!(3), json!(3)));
}

async fn a_lapsed_invitation_frees_its_seat_and_resending_it_needs_one(app: TestApp) {
    // Given an account of two seats whose second is a pending invitation
    let owner = app.owner("standard", "owner@seats-lapse.example").await;
    app.seat_limit(&owner.account_id, Some(2)).await;
    let pending = invite(&app, &owner, "anna@seats-lapse.example").await;
    assert_eq!(seats(&app, &owner).await.0, json!(2));

    // When its link lapses (before any cleanup), then its seat is free and goes to someone else
    app.advance_clock(8 * 24 * 3600).await;
    let owner = app.signed_in_again(owner).await;
    assert_eq!(seats(&app, &owner).await.0, json!(1));
    assert_eq!(invite(&app, &owner, "bohdan@seats-lapse.example").await.status, 201);

    // And sending the lapsed invitation again finds no seat
    let resend = format!("{}/invitations/{}/resend", owner.account_path(), pending.str("id"));
    let resent = app.post_as(&owner.token, &resend, json!({})).await;
    assert_eq!((resent.status, resent.code()), (409, "seat_limit_reached"), "{}", resent.body);
    assert!(app.mail_to("anna@seats-lapse.example").await.len() == 1, "no second mail");
}

async fn invitations_racing_for_the_last_seats_never_take_more(app: TestApp) {
    // Given an account of four seats, the owner's taken
    let owner = app.owner("standard", "owner@seats-race.example").await;
    app.seat_limit(&owner.account_id, Some(4)).await;

    // When twelve invitations are sent at once
    let emails: Vec<String> = (0..12).map(|i| format!("racer{i}@seats-race.example")).collect();
    let replies = join_all(emails.iter().map(|email| invite(&app, &owner, email))).await;

    // Then at most three were written, every other one refused as full or as a lost race
    let written = replies.iter().filter(|r| r.status == 201).count();
    for reply in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(reply.status, 409, "{}", reply.body);
        assert!(["seat_limit_reached", "concurrent_change"].contains(&reply.code()), "{}", reply.body);
    }
    assert!((1..=3).contains(&written), "{written} written");
    assert_eq!(seats(&app, &owner).await.0, json!(1 + written));

    // And sent one after another, the rest fill the account exactly
    let mut invited = written;
    for email in &emails {
        if invite(&app, &owner, email).await.status == 201 {
            invited += 1;
        }
    }
    assert_eq!((invited, seats(&app, &owner).await.0), (3, json!(4)));
    let pending =
        app.get_as(&owner.token, &format!("{}/invitations?status=sent", owner.account_path())).await;
    let others =
        pending.body["items"].as_array().unwrap().iter().filter(|i| i["email"] != owner.email.as_str());
    assert_eq!(others.count(), 3, "{}", pending.body);
}

async fn the_operator_sets_lowers_and_lifts_a_limit(app: TestApp) {
    // Given an account created with two seats, both taken
    let created = app
        .operator(
            "/v1/operator/accounts",
            json!({"name": "Kvitka", "owner_email": "owner@seats-op.example", "max_members": 2}),
        )
        .await;
    assert_eq!(
        (created.status, &created.body["account"]["max_members"]),
        (201, &json!(2)),
        "{}",
        created.body
    );
    let account_id = created.body["account"]["id"].as_str().unwrap().to_owned();
    let session = app.activate(&app.link_token("owner@seats-op.example").await).await;
    let token = app.ready(session.str("access_token"), &account_id).await;
    let owner = Owner { account_id: account_id.clone(), email: "owner@seats-op.example".into(), token };
    app.member(&owner, "anna@seats-op.example", &["viewer"], &[]).await;

    // When the operator lowers the limit below the seats taken, then no one is removed and no
    // one more may join
    let lowered = app.seat_limit(&account_id, Some(1)).await;
    assert_eq!((&lowered.body["seats_used"], &lowered.body["max_members"]), (&json!(2), &json!(1)));
    assert_eq!(app.member_named(&owner, "anna@seats-op.example").await["status"], "active");
    assert_eq!(invite(&app, &owner, "bohdan@seats-op.example").await.code(), "seat_limit_reached");

    // And once the limit is lifted, the invitation goes
    let lifted = app.seat_limit(&account_id, None).await;
    assert_eq!((lifted.status, &lifted.body["max_members"]), (200, &Value::Null), "{}", lifted.body);
    assert_eq!(invite(&app, &owner, "bohdan@seats-op.example").await.status, 201);

    // And every change is in the account's audit log, as the operator's
    let log = app
        .get_as(
            &owner.token,
            &format!("{}/audit-events?action=account.seat_limit_changed", owner.account_path()),
        )
        .await;
    let changes: Vec<(Value, Value)> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["details"]["max_members"].clone(), e["actor_id"].clone()))
        .collect();
    assert_eq!(changes, [(Value::Null, Value::Null), (json!(1), Value::Null)]);
}

async fn a_bad_limit_a_missing_account_or_a_missing_key_changes_nothing(app: TestApp) {
    // Given an account of the owner's
    let owner = app.owner("standard", "owner@seats-bad.example").await;
    let path = format!("/v1/operator/accounts/{}/seat-limit", owner.account_id);

    // When the limit is zero, too high, not a number or left out, then it is a field error
    for body in
        [json!({"max_members": 0}), json!({"max_members": 10_001}), json!({"max_members": "ten"}), json!({})]
    {
        let refused = app.operator_send(reqwest::Method::PUT, &path, Some(body.clone())).await;
        assert_eq!((refused.status, refused.code()), (400, "validation_failed"), "{body}: {}", refused.body);
        assert_eq!(refused.field_errors()[0].0, "max_members", "{body}: {}", refused.body);
    }

    // And another account's id is not found, and the owner's own token is no operator key
    let elsewhere = app.seat_limit(&uuid::Uuid::now_v7().to_string(), Some(5)).await;
    assert_eq!((elsewhere.status, elsewhere.code()), (404, "not_found"), "{}", elsewhere.body);
    let as_owner =
        app.send(reqwest::Method::PUT, &path, Some(&owner.token), Some(json!({"max_members": 1}))).await;
    assert_eq!((as_owner.status, as_owner.code()), (401, "unauthenticated"), "{}", as_owner.body);

    // And the account is as it was
    assert_eq!(seats(&app, &owner).await, (json!(1), Value::Null));
}

async fn an_owner_recovery_is_never_refused_for_a_seat_and_invitations_count_its_candidate(app: TestApp) {
    // Given an account of two seats: its owner's, and one free
    let owner = app.owner("standard", "owner@seats-recovery.example").await;
    app.seat_limit(&owner.account_id, Some(2)).await;

    // When the operator sends an owner-recovery link, then a second one to another address
    let path = format!("/v1/operator/accounts/{}/owner-recovery", owner.account_id);
    for email in ["first@seats-recovery.example", "second@seats-recovery.example"] {
        let recovery = app.operator(&path, json!({ "new_email": email })).await;
        assert_eq!(recovery.status, 202, "{}", recovery.body);
    }

    // Then the live candidate takes the free seat (the cancelled one gave theirs back), and an
    // invitation finds none
    assert_eq!(seats(&app, &owner).await.0, json!(2));
    let refused = invite(&app, &owner, "anna@seats-recovery.example").await;
    assert_eq!((refused.status, refused.code()), (409, "seat_limit_reached"), "{}", refused.body);

    // And in a full account a recovery still goes, one seat past the limit
    app.seat_limit(&owner.account_id, Some(1)).await;
    let third = app.operator(&path, json!({ "new_email": "third@seats-recovery.example" })).await;
    assert_eq!(third.status, 202, "{}", third.body);
    assert_eq!(seats(&app, &owner).await, (json!(2), json!(1)));
}

tests::scenarios!(
    an_owner_recovery_is_never_refused_for_a_seat_and_invitations_count_its_candidate,
    every_member_pending_invitation_and_the_owner_take_a_seat,
    a_lapsed_invitation_frees_its_seat_and_resending_it_needs_one,
    invitations_racing_for_the_last_seats_never_take_more,
    the_operator_sets_lowers_and_lifts_a_limit,
    a_bad_limit_a_missing_account_or_a_missing_key_changes_nothing,
);
