#!/usr/bin/env bash
# The contract run: Schemathesis sends the dev server requests that openapi.yaml allows (positive)
# and requests it forbids (negative), and fails on any of
#   - a 5xx (not_a_server_error),
#   - a response the spec does not describe: its status, content type, headers or body
#     (status_code_conformance, content_type_conformance, response_headers_conformance,
#     response_schema_conformance),
#   - a request the spec calls valid that the server refuses with a 400, 413, 415 or 422
#     (positive_data_acceptance).
# `make contract` runs it, and `make test` after the cargo tests. Bounded: at most
# $CONTRACT_EXAMPLES cases per operation and phase, $CONTRACT_SECONDS for the whole run, and a
# hard `timeout` around it; about two minutes on two cores.
#
# On a fresh dev server (embedded defaults: in-memory store, outbox mailer) on a free loopback
# port, it sets up through the API alone (tests/contract/setup.py): a `standard` account whose
# owner activates from the emailed link, an active editor and pending invitations. The run calls
# as that owner (`Authorization: Bearer`) and with the operator key (`X-Operator-Key`, set here
# through OPERATOR_KEY).
#
# Left out, and why:
#   - `/_dev/*`: never deployed, and `POST /_dev/clock` would move time past the owner's access
#     token (15 minutes), locking the run out of every guarded route.
#   - `POST /v1/me/sessions/revoke-others`: it ends every other session by raising the owner's
#     token version, which ends the run's access token too (the answer carries the new one,
#     which the run cannot take up); tests/tests/sessions.rs calls it.
#   - Nothing else: no other route can lock the run out. Changing the owner's password, handing over
#     the account, and refresh/logout need secrets the run does not give Schemathesis (the
#     password, a refresh token), so they are exercised with wrong ones; blocking or deleting the
#     owner is refused (`owner_protected`).
# Test data the spec cannot make up:
#   - ids (bound in the generated config below): the account's (in paths, and in the body of
#     `POST /v1/authorize`), its owner's and editor's, its invitations', its API keys', so that
#     requests reach the rules rather than answer 404;
#   - an API key's secret: `POST /v1/authorize` takes one in place of the owner's token, and the
#     spec cannot make one up; tests/contract/hooks.py asks with it (CONTRACT_API_KEY) every other
#     positive case, so that both of its answers meet the spec;
#   - invitation links, page cursors, role and permission names, phones, new passwords and
#     refused domains, which only the server or the account's preset decide:
#     tests/contract/hooks.py gives positive cases real ones;
#   - `POST /v1/password-reset/inspect` and `/confirm`: only a live emailed token reaches what
#     they answer, and the spec cannot tell a live token from a well-formed one, so their `400`
#     (the documented `invalid_or_expired_token`) counts as an answer, not a refusal of valid data.
#   - the second steps (`confirm_totp`, `disable_totp`, `complete_sign_in`, `step_up`): only the
#     person's authenticator app makes a code that passes, so their `400 invalid_mfa_code`
#     counts as an answer too (tests/tests/mfa.rs makes real codes).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools="$root/.tools"
venv="$tools/venv"
# Pinned: the checks' meaning changes between releases.
version="4.32.5"
examples="${CONTRACT_EXAMPLES:-25}"
seconds="${CONTRACT_SECONDS:-120}"
cargo="${CARGO:-cargo}"

# Schemathesis into the virtualenv the emulators use, once (as tests/install-emulators.sh does
# for moto).
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version | grep -qF "$version"; then
    echo "installing schemathesis==$version into $venv"
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

# CONTRACT_SERVER runs another build of the dev server instead.
server="${CONTRACT_SERVER:-}"
if [ -z "$server" ]; then
    "$cargo" build --quiet -p dev-server
    server="${CARGO_TARGET_DIR:-$root/target}/debug/dev-server"
fi

work="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
operator_key="contract-$("$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(24))')"
PORT="$port" PUBLIC_BASE_URL="$base" OPERATOR_KEY="$operator_key" STORE=memory MAILER=outbox \
    RUST_LOG="${RUST_LOG:-warn}" "$server" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
        "$base/.well-known/jwks.json" 2>/dev/null; then
        break
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "the dev server did not start" >&2; exit 1; }
    sleep 0.2
done
if ! "$venv/bin/python" "$root/tests/contract/setup.py" "$base" "$operator_key" >"$work/ids"; then
    tail -n 40 "$work/server.log" >&2
    echo "contract: setting up the account failed" >&2
    exit 1
fi
# shellcheck disable=SC1091
. "$work/ids"
export CONTRACT_ROLES CONTRACT_PERMISSIONS INSPECT_TOKEN ACCEPT_TOKENS CONTRACT_API_KEY

cat >"$work/schemathesis.toml" <<TOML
# Written by tests/contract/run.sh for one run; see there for why each binding is here.
color = false
hooks = "hooks"

[cache]
enabled = false

[generation]
database = ":memory:"

[auth.openapi.bearerAuth]
bearer = "$OWNER_TOKEN"

[auth.openapi.operatorKey]
api_key = "$operator_key"

[parameters]
"path.account_id" = "$ACCOUNT_ID"
"body.account_id" = "$ACCOUNT_ID"
"path.user_id" = { dictionary = "members", probability = 0.9 }
"path.invitation_id" = { dictionary = "invitations", probability = 0.9 }
"body.user_id" = { dictionary = "members", probability = 0.9 }
"path.key_id" = { dictionary = "keys", probability = 0.9 }

[dictionaries.members]
values = ["$OWNER_ID", "$MEMBER_ID"]

[dictionaries.invitations]
values = ["$PENDING_INVITATION_ID", "$ACCEPTED_INVITATION_ID"]

[dictionaries.keys]
values = ["$ROTATED_KEY_ID", "$REVOKED_KEY_ID"]

[[operations]]
include-operation-id = "confirm_password_reset"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "429"]

[[operations]]
include-operation-id = "inspect_password_reset"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "429"]

[[operations]]
include-operation-id = "confirm_totp"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "409", "429"]

[[operations]]
include-operation-id = "disable_totp"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "409", "429"]

[[operations]]
include-operation-id = "complete_sign_in"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "429"]

[[operations]]
include-operation-id = "step_up"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "409", "429"]

# A valid Idempotency-Key the run already sent with another body is refused: 422
# idempotency_key_reused, as openapi.yaml says.
[[operations]]
include-operation-id = ["create_account", "recover_owner", "invite", "bulk_invite", "resend_invitation"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]
TOML

# One worker: with two, Hypothesis describing its strategies parses source with `ast.parse` on
# two threads at once, which Python 3.11 can fail ("AST constructor recursion depth mismatch"),
# failing the run for nothing the API did.
echo "schemathesis $version against $base: at most $examples cases per operation, ${seconds}s"
started=$(date +%s)
status=0
(cd "$work" && PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$root/tests/contract" timeout --kill-after=10 "$((seconds + 60))" \
    "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "$root/openapi.yaml" \
    --url "$base" \
    --mode all \
    --max-examples "$examples" \
    --max-time "$seconds" \
    --workers 1 \
    --request-timeout 10 \
    --exclude-path-regex '^/_dev/' \
    --exclude-operation-id end_other_sessions \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,positive_data_acceptance \
    --suppress-health-check too_slow,filter_too_much \
    --warnings off) || status=$?
echo "schemathesis took $(($(date +%s) - started))s"
if [ "$status" -ne 0 ]; then
    echo "--- the dev server's log (last 40 lines) ---" >&2
    tail -n 40 "$work/server.log" >&2
    echo "contract: schemathesis found problems (exit $status)" >&2
fi
exit "$status"
