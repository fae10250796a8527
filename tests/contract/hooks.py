"""Schemathesis hooks for the contract run (tests/contract/run.sh loads them).

They give a positive case (a request the spec calls valid) the test data that the spec cannot
make up and the account's preset decides, so that the server's answer to it must be a success;
negative cases are sent as generated, and the server must refuse them. In every phase:

- `cursor`: valid only as the server issued it, signed and bound to the list and its filters
  (openapi.yaml, the `Cursor` parameter; the audit export gives it in its `Link` header). A
  generated one is replaced by a cursor the server
  issued earlier in this run for the same list and filters, or dropped (the first page).
- `roles`, `permissions`: the spec's patterns admit any name; the account's preset (`standard`)
  knows a few (CONTRACT_ROLES, CONTRACT_PERMISSIONS from tests/contract/setup.py). Names that
  are no role or permission of the account become ones that are.
- `phone`: the spec states what every preset keeps; `standard` wants the international form
  (`+`, then 8 to 15 digits, the first not 0). Other phones become one.
- `token` of `POST /v1/invitations/inspect` and `.../accept`: only an emailed link works. Inspect
  gets a pending invitation's (INSPECT_TOKEN), accept one of three others' in turn
  (ACCEPT_TOKENS: the first use of each succeeds, later ones find it used) with a password the
  preset's policy takes (the spec states what every preset keeps; `standard` wants 15
  characters and no common password).
- `blocked_email_domains`: generated entries (`com`, `0.info`...) would make the account refuse
  the generated invitees' emails, a real `400 blocked_email_domain` for data the spec calls
  valid. They become entries no generated email uses.
- `mfa` of the settings: the run's owner has no second step, and requiring it asks the caller
  to have one (`400 invalid_value`), lowering it below the preset's `optional` is refused too;
  a generated policy becomes `optional`.
- `networks` of a new API key: the spec states the form (CIDR, host bits zero) in words only, so
  generated entries become networks that are written that way.
- `POST …/invitations/bulk`: each JSON row is fixed as an invitation's body is; a CSV upload
  (the spec says only `string`, its columns in words) becomes a header and a row of the
  account's roles.
- `POST /v1/authorize`: every other positive case asks with the account's API key
  (CONTRACT_API_KEY, `X-Api-Key`) instead of the owner's token, so that the answer for a key
  (`key`, no `member`) is held to the spec too. The key is limited to no network.
"""

import os
import re
import urllib.parse

import schemathesis

ROLES = os.environ.get("CONTRACT_ROLES", "").split()
PERMISSIONS = os.environ.get("CONTRACT_PERMISSIONS", "").split()
INTERNATIONAL_PHONE = re.compile(r"\+[ ().-]*[1-9](?:[ ().-]*[0-9]){7,14}[ ().-]*")
PHONES = ["+14155550123", "+44 20 7946 0958", "+380 (50) 123-45-67", "+48.601.234.567"]
REFUSED = ["refused.example", ".refused.example", "Refused.Example"]
NETWORKS = ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7", "10.0.0.0/8", "0.0.0.0/0"]
API_KEY = os.environ.get("CONTRACT_API_KEY", "")
AUTHORIZATIONS = [0]

INSPECT_TOKEN = os.environ.get("INSPECT_TOKEN", "")
ACCEPT_TOKENS = os.environ.get("ACCEPT_TOKENS", "").split()
PASSWORD = "Contract-Run-Password-2718"
ACCEPTS = [0]
BULK_ROWS = [0]

# (path template, filters) -> a `next_cursor` the server gave for that list.
ISSUED = {}
FILTERS = ("status", "role", "q", "email", "delivery", "from", "to", "action", "actor_id", "target_id", "format")


def _list_key(case):
    query = case.query or {}
    return case.operation.path, tuple((name, str(query.get(name))) for name in FILTERS)


def _pick(known, value, index):
    """`value` when it is known, else a known one (chosen by position, so lists vary)."""
    if not known or value in known:
        return value
    return known[(len(str(value)) + index) % len(known)]


def _positive(case):
    return case.meta is not None and case.meta.generation.mode.is_positive


def _fix_cursor(case):
    query = case.query
    if not query or "cursor" not in query:
        return
    issued = ISSUED.get(_list_key(case))
    if issued is None:
        del query["cursor"]
    else:
        query["cursor"] = issued


def _fix_body(body):
    if not isinstance(body, dict):
        return
    for field, known in (("roles", ROLES), ("permissions", PERMISSIONS)):
        if isinstance(body.get(field), list):
            body[field] = [_pick(known, v, i) for i, v in enumerate(body[field])]
    phone = body.get("phone")
    if isinstance(phone, str) and phone.strip() and not INTERNATIONAL_PHONE.fullmatch(phone.strip()):
        body["phone"] = PHONES[len(phone) % len(PHONES)]
    domains = body.get("blocked_email_domains")
    if isinstance(domains, list):
        body["blocked_email_domains"] = [REFUSED[i % len(REFUSED)] for i in range(len(domains))]
    if isinstance(body.get("mfa"), str):
        body["mfa"] = "optional"
    networks = body.get("networks")
    if isinstance(networks, list):
        body["networks"] = [NETWORKS[i % len(NETWORKS)] for i in range(len(networks))]


def _fix_bulk(case):
    if not case.operation.path.endswith("/invitations/bulk"):
        return
    if isinstance(case.body, dict) and isinstance(case.body.get("invitations"), list):
        for row in case.body["invitations"]:
            _fix_body(row)
    elif isinstance(case.body, str):
        BULK_ROWS[0] += 1
        role = ROLES[0] if ROLES else "viewer"
        case.body = f"email,roles\r\nbulk{BULK_ROWS[0]}@contract.example,{role}\r\n"


def _fix_link(case):
    body = case.body
    if not isinstance(body, dict) or "token" not in body:
        return
    if case.operation.path == "/v1/invitations/inspect" and INSPECT_TOKEN:
        body["token"] = INSPECT_TOKEN
    elif case.operation.path == "/v1/invitations/accept" and ACCEPT_TOKENS:
        body["token"] = ACCEPT_TOKENS[ACCEPTS[0] % len(ACCEPT_TOKENS)]
        ACCEPTS[0] += 1
        body["password"] = PASSWORD


def _ask_with_key(case):
    if case.operation.path != "/v1/authorize" or not API_KEY:
        return
    AUTHORIZATIONS[0] += 1
    if AUTHORIZATIONS[0] % 2:
        return
    if case.headers is None:
        case.headers = {}
    for name in [n for n in case.headers if n.lower() in ("authorization", "x-api-key")]:
        del case.headers[name]
    case.headers["X-Api-Key"] = API_KEY


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    if not _positive(case):
        return
    _fix_cursor(case)
    _fix_body(case.body)
    _fix_bulk(case)
    _fix_link(case)
    _ask_with_key(case)


@schemathesis.hook
def after_call(ctx, case, response):
    if response.status_code != 200 or case.method.upper() != "GET":
        return
    # A file of the audit export names its next page in `Link`; a list, in `next_cursor`.
    link = re.search(r"[?&]cursor=([^&>]+)", response.headers.get("Link", ""))
    if link:
        ISSUED[_list_key(case)] = urllib.parse.unquote(link.group(1))
        return
    try:
        cursor = response.json().get("next_cursor")
    except Exception:  # not a list
        return
    if isinstance(cursor, str):
        ISSUED[_list_key(case)] = cursor
