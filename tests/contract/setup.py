"""Sets up what the Schemathesis run needs on a fresh dev server, through the API only.

Creates a `standard` account, activates its owner from the emailed link (`GET /_dev/mail`),
invites an editor who activates too, and leaves invitations pending: a viewer's (whose id the
run aims at), one to inspect and three to accept (whose links it uses). Makes three API keys:
two the run rotates and revokes (by id), and one that asks `POST /v1/authorize` in place of the
owner's token (by secret; no route of the run names it, so it keeps working). Prints
`NAME=value` lines for the shell: the owner's access token, those ids, links and the secret,
and the account's role and permission names.

    python3 setup.py http://127.0.0.1:PORT OPERATOR_KEY
"""

import json
import sys
import urllib.error
import urllib.request

BASE, OPERATOR_KEY = sys.argv[1], sys.argv[2]
# Long enough for every preset's policy, and no common password.
PASSWORD = "Correct-Horse-Battery-42"


def call(method, path, body=None, token=None, operator=False):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    if operator:
        request.add_header("X-Operator-Key", OPERATOR_KEY)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def expect(status, answer, wanted, what):
    if status != wanted:
        sys.exit(f"setup: {what} answered {status}, not {wanted}: {answer}")
    return answer


def link_token(email):
    """The token of the newest link mailed to `email`, as the person would copy it."""
    mail = expect(*call("GET", "/_dev/mail"), 200, "GET /_dev/mail")
    for message in mail["items"]:
        if message["to"] == email:
            return message["links"][0].split("#token=", 1)[1]
    sys.exit(f"setup: no mail to {email}")


owner_email = "owner@contract.example"
created = expect(
    *call(
        "POST",
        "/v1/operator/accounts",
        {"name": "Contract shop", "owner_email": owner_email, "preset": "standard"},
        operator=True,
    ),
    201,
    "creating the account",
)
account = created["account"]["id"]
owner = expect(
    *call("POST", "/v1/invitations/accept", {"token": link_token(owner_email), "password": PASSWORD}),
    200,
    "activating the owner",
)
token = owner["access_token"]
invitations = f"/v1/accounts/{account}/invitations"
accepted = expect(
    *call("POST", invitations, {"email": "editor@contract.example", "roles": ["editor"]}, token=token),
    201,
    "inviting the editor",
)
member = expect(
    *call(
        "POST",
        "/v1/invitations/accept",
        {"token": link_token("editor@contract.example"), "password": PASSWORD},
    ),
    200,
    "activating the editor",
)
pending = expect(
    *call("POST", invitations, {"email": "viewer@contract.example", "roles": ["viewer"]}, token=token),
    201,
    "inviting the viewer",
)
# Links no other step of the run knows the invitations of: one to inspect, some to accept.
expect(
    *call("POST", invitations, {"email": "inspect@contract.example", "roles": ["viewer"]}, token=token),
    201,
    "inviting someone to inspect",
)
accept_tokens = []
for n, grant in enumerate([{"roles": ["finance"]}, {"roles": ["viewer", "editor"]}, {"permissions": ["orders:read"]}]):
    email = f"accept{n}@contract.example"
    expect(*call("POST", invitations, {"email": email, **grant}, token=token), 201, f"inviting {email}")
    accept_tokens.append(link_token(email))
keys = f"/v1/accounts/{account}/api-keys"
key_ids = []
for name in ["rotated by the run", "revoked by the run"]:
    made = expect(*call("POST", keys, {"name": name, "permissions": ["orders:read"]}, token=token), 201, f"making {name}")
    key_ids.append(made["id"])
asking = expect(
    *call("POST", keys, {"name": "asks authorize", "permissions": ["orders:read", "products:write"]}, token=token),
    201,
    "making the key that asks",
)
roles = expect(*call("GET", f"/v1/accounts/{account}/roles", token=token), 200, "reading the roles")
role_names = " ".join(role["name"] for role in roles["items"])
permissions = " ".join(p for section in roles["permission_catalog"] for p in section["permissions"])
print(f"OWNER_TOKEN={token}")
print(f"CONTRACT_ROLES='{role_names}'")
print(f"CONTRACT_PERMISSIONS='{permissions}'")
print(f"ACCOUNT_ID={account}")
print(f"OWNER_ID={owner['user_id']}")
print(f"MEMBER_ID={member['user_id']}")
print(f"ACCEPTED_INVITATION_ID={accepted['id']}")
print(f"PENDING_INVITATION_ID={pending['id']}")
print(f"INSPECT_TOKEN={link_token('inspect@contract.example')}")
print(f"ACCEPT_TOKENS='{' '.join(accept_tokens)}'")
print(f"ROTATED_KEY_ID={key_ids[0]}")
print(f"REVOKED_KEY_ID={key_ids[1]}")
print(f"CONTRACT_API_KEY={asking['secret']}")
