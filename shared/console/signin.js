// Signing in (with a second step where the person has one), choosing the account, signing out.

/** Signs in from the form: the password, then the authenticator's code when asked for it. */
async function signIn(event) {
  event.preventDefault();
  say("");
  let session;
  try {
    session = state.challenge
      ? await api("POST", "/v1/sessions/mfa", { challenge: state.challenge, code: $("code").value.trim() })
      : await api("POST", "/v1/sessions", { email: $("email").value.trim(), password: $("password").value });
  } catch (error) {
    const wrongCode = state.challenge !== null;
    state.challenge = null;
    $("code-field").hidden = true;
    if (error instanceof Refused && error.status === 401) return say(t(wrongCode ? "signin.code_wrong" : "signin.wrong"));
    return say(reason(error));
  }
  if (session.mfa_required) {
    state.challenge = session.challenge;
    $("code-field").hidden = false;
    $("code").value = "";
    $("code").focus();
    return say(t("signin.code_needed"), "ok");
  }
  state.challenge = null;
  $("password").value = "";
  begin(session);
  await openAccount();
}

/** Opens the chosen account (or the first): its language, roles, and the screen in the address. */
async function openAccount() {
  if (!state.memberships.length) {
    show("signin");
    return say(t("team.none"));
  }
  const chosen = state.accountId || sessionStorage.getItem(ACCOUNT);
  const select = $("account");
  select.replaceChildren(
    ...state.memberships.map((m) => new Option(m.account_name, m.account_id, false, m.account_id === chosen)),
  );
  state.accountId = select.value;
  sessionStorage.setItem(ACCOUNT, state.accountId);
  state.membership = state.memberships.find((m) => m.account_id === state.accountId);
  const [account, roles] = await Promise.all([
    api("GET", `/v1/accounts/${state.accountId}`),
    api("GET", `/v1/accounts/${state.accountId}/roles`),
  ]);
  state.account = account;
  state.roles = roles;
  if (TEXT[account.locale]) state.lang = account.locale;
  translate();
  show("team");
  await go(location.hash.replace(/^#\/?/, "") || "members");
}

/** Shows the sign-in form or the console. */
function show(id) {
  $("signin").hidden = id !== "signin";
  $("team").hidden = id !== "team";
}

/**
 * Ends the session on the server and in this tab, after any refresh under way (else its answer
 * would bring back a refresh token the logout never saw), then starts the page afresh: nothing
 * of the account, a secret or recovery codes included, stays in the page.
 */
async function signOut() {
  await state.refreshing;
  const token = sessionStorage.getItem(REFRESH);
  sessionStorage.removeItem(REFRESH);
  sessionStorage.removeItem(ACCOUNT);
  if (token) await api("POST", "/v1/sessions/logout", { refresh_token: token }).catch(() => null);
  location.reload();
}

/**
 * Switches to the account chosen by starting the page afresh on it: no screen, list or
 * request of the account left can act on the one chosen.
 */
function switchAccount() {
  sessionStorage.setItem(ACCOUNT, $("account").value);
  location.reload();
}
