// The team console (issue 11's first part): sign in, choose the account, read its members.
// No framework and no build step: the server serves this file as it is, under a policy that
// allows no inline script or style. The access token lives in memory only; the refresh token
// in this tab's sessionStorage, so a reload keeps the session: a script able to read it (this
// origin's, or an extension granted this site) could read the page's memory as well.
"use strict";
(() => {
  const TEXT = {
    en: {
      "signin.title": "Sign in", "signin.email": "Email", "signin.password": "Password",
      "signin.code": "Code from your authenticator app", "signin.submit": "Sign in",
      "signin.forgot": "Forgot your password?", "signin.wrong": "The email or password is incorrect.",
      "signin.code_needed": "Enter the code from your authenticator app.",
      "team.account": "Account", "team.language": "Language", "team.signout": "Sign out",
      "team.title": "Members", "team.search": "Search by name or email", "team.status": "Status",
      "team.filter": "Show", "team.loading": "Loading…", "team.empty": "No one matches.",
      "team.more": "Show more", "team.none": "You are not an active member of any account.",
      "status.any": "Any status", "status.active": "Active", "status.not_activated": "Not activated",
      "status.blocked": "Blocked", "col.person": "Person", "col.roles": "Roles", "col.status": "Status",
      "col.last": "Last sign-in", "owner": "Owner", "never": "Never",
      "wait": "Too many attempts: try again in {s} seconds.", "failed": "Something went wrong; try again.",
    },
    uk: {
      "signin.title": "Вхід", "signin.email": "Електронна пошта", "signin.password": "Пароль",
      "signin.code": "Код із застосунку автентифікації", "signin.submit": "Увійти",
      "signin.forgot": "Забули пароль?", "signin.wrong": "Неправильна електронна пошта або пароль.",
      "signin.code_needed": "Введіть код із застосунку автентифікації.",
      "team.account": "Кабінет", "team.language": "Мова", "team.signout": "Вийти",
      "team.title": "Користувачі", "team.search": "Пошук за ім'ям або поштою", "team.status": "Статус",
      "team.filter": "Показати", "team.loading": "Завантаження…", "team.empty": "Нікого не знайдено.",
      "team.more": "Показати ще", "team.none": "Ви не є активним користувачем жодного кабінету.",
      "status.any": "Будь-який статус", "status.active": "Активний", "status.not_activated": "Не активований",
      "status.blocked": "Заблокований", "col.person": "Користувач", "col.roles": "Ролі", "col.status": "Статус",
      "col.last": "Останній вхід", "owner": "Власник", "never": "Ніколи",
      "wait": "Забагато спроб: повторіть через {s} с.", "failed": "Щось пішло не так; спробуйте ще раз.",
    },
    pl: {
      "signin.title": "Logowanie", "signin.email": "E-mail", "signin.password": "Hasło",
      "signin.code": "Kod z aplikacji uwierzytelniającej", "signin.submit": "Zaloguj się",
      "signin.forgot": "Nie pamiętasz hasła?", "signin.wrong": "Nieprawidłowy e-mail lub hasło.",
      "signin.code_needed": "Wpisz kod z aplikacji uwierzytelniającej.",
      "team.account": "Konto", "team.language": "Język", "team.signout": "Wyloguj się",
      "team.title": "Użytkownicy", "team.search": "Szukaj po nazwisku lub e-mailu", "team.status": "Status",
      "team.filter": "Pokaż", "team.loading": "Wczytywanie…", "team.empty": "Nikt nie pasuje.",
      "team.more": "Pokaż więcej", "team.none": "Nie jesteś aktywnym członkiem żadnego konta.",
      "status.any": "Dowolny status", "status.active": "Aktywny", "status.not_activated": "Nieaktywowany",
      "status.blocked": "Zablokowany", "col.person": "Osoba", "col.roles": "Role", "col.status": "Status",
      "col.last": "Ostatnie logowanie", "owner": "Właściciel", "never": "Nigdy",
      "wait": "Zbyt wiele prób: spróbuj ponownie za {s} s.", "failed": "Coś poszło nie tak; spróbuj ponownie.",
    },
  };
  const REFRESH = "teamgate.refresh";
  const PAGE = 20;
  const $ = (id) => document.getElementById(id);
  const state = { access: null, challenge: null, memberships: [], account: null, cursor: null, lang: "en", titles: {} };

  const t = (key, values = {}) =>
    (TEXT[state.lang][key] || TEXT.en[key] || key).replace(/\{(\w+)\}/g, (_, name) => values[name]);

  function translate() {
    document.documentElement.lang = state.lang;
    $("language").value = state.lang;
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  }

  function say(text, kind = "err") {
    const msg = $("msg");
    msg.className = text ? `is-${kind}` : "";
    msg.textContent = text || "";
  }

  async function call(method, path, body, retried = false) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (state.access) headers.Authorization = `Bearer ${state.access}`;
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (response.status === 401 && state.access && !retried && (await refresh())) return call(method, path, body, true);
    if (response.status === 429) throw new Error(t("wait", { s: response.headers.get("Retry-After") || "60" }));
    return { status: response.status, data };
  }

  async function refresh() {
    const token = sessionStorage.getItem(REFRESH);
    if (!token) return false;
    state.access = null;
    const { status, data } = await call("POST", "/v1/sessions/refresh", { refresh_token: token }, true);
    if (status !== 200) {
      sessionStorage.removeItem(REFRESH);
      return false;
    }
    begin(data);
    return true;
  }

  function begin(session) {
    state.access = session.access_token;
    sessionStorage.setItem(REFRESH, session.refresh_token);
    state.memberships = session.memberships.filter((m) => m.status === "active");
  }

  function show(id) {
    for (const section of ["signin", "team"]) $(section).hidden = section !== id;
  }

  async function signIn(event) {
    event.preventDefault();
    say("");
    const attempt = state.challenge
      ? call("POST", "/v1/sessions/mfa", { challenge: state.challenge, code: $("code").value.trim() })
      : call("POST", "/v1/sessions", { email: $("email").value.trim(), password: $("password").value });
    const { status, data } = await attempt;
    if (status === 202 && data && data.mfa_required) {
      state.challenge = data.challenge;
      $("code-field").hidden = false;
      $("code").focus();
      return say(t("signin.code_needed"), "ok");
    }
    if (status !== 200) {
      state.challenge = null;
      $("code-field").hidden = true;
      return say(status === 401 ? t("signin.wrong") : (data && data.detail) || t("failed"));
    }
    state.challenge = null;
    $("password").value = "";
    begin(data);
    await openTeam();
  }

  async function openTeam() {
    if (!state.memberships.length) {
      show("signin");
      return say(t("team.none"));
    }
    const select = $("account");
    select.replaceChildren(
      ...state.memberships.map((m) => new Option(m.account_name, m.account_id, false, m.account_id === state.account)),
    );
    state.account = select.value;
    const [account, roles] = await Promise.all([
      call("GET", `/v1/accounts/${state.account}`),
      call("GET", `/v1/accounts/${state.account}/roles`),
    ]);
    if (account.status === 200 && TEXT[account.data.locale]) state.lang = account.data.locale;
    state.titles = roles.status === 200 ? Object.fromEntries(roles.data.items.map((r) => [r.name, r.title])) : {};
    translate();
    show("team");
    await loadMembers(true);
  }

  function when(instant) {
    if (!instant) return t("never");
    return new Date(instant).toLocaleString(navigator.language, { dateStyle: "medium", timeStyle: "short" });
  }

  function row(member) {
    const tr = document.createElement("tr");
    const person = document.createElement("td");
    const name = [member.first_name, member.last_name].filter(Boolean).join(" ");
    person.append(name || member.email);
    if (name) person.append(Object.assign(document.createElement("small"), { textContent: member.email }));
    const titled = member.roles.map((name) => state.titles[name] || name);
    const roles = member.is_owner ? [t("owner")] : titled.concat(member.permissions);
    const cells = [roles.join(", "), t(`status.${member.status}`), when(member.last_login_at)];
    tr.append(person, ...cells.map((text) => Object.assign(document.createElement("td"), { textContent: text })));
    return tr;
  }

  async function loadMembers(fresh) {
    const body = $("members").tBodies[0];
    if (fresh) {
      state.cursor = null;
      body.replaceChildren();
    }
    const query = new URLSearchParams({ limit: String(PAGE) });
    for (const name of ["q", "status"]) if ($(name).value) query.set(name, $(name).value);
    if (state.cursor) query.set("cursor", state.cursor);
    $("loading").hidden = false;
    try {
      const { status, data } = await call("GET", `/v1/accounts/${state.account}/members?${query}`);
      if (status !== 200) return say((data && data.detail) || t("failed"));
      body.append(...data.items.map(row));
      state.cursor = data.next_cursor;
      $("members").hidden = body.rows.length === 0;
      $("empty").hidden = body.rows.length !== 0;
      $("more").hidden = !state.cursor;
    } finally {
      $("loading").hidden = true;
    }
  }

  async function signOut() {
    const token = sessionStorage.getItem(REFRESH);
    sessionStorage.removeItem(REFRESH);
    if (token) await call("POST", "/v1/sessions/logout", { refresh_token: token }).catch(() => null);
    Object.assign(state, { access: null, memberships: [], account: null });
    show("signin");
    $("email").focus();
  }

  const guarded = (handler) => (event) =>
    handler(event).catch((error) => say(error.message || t("failed")));

  document.addEventListener("DOMContentLoaded", () => {
    const wanted = (navigator.language || "en").slice(0, 2);
    state.lang = TEXT[wanted] ? wanted : "en";
    translate();
    $("signin-form").addEventListener("submit", guarded(signIn));
    $("filters").addEventListener("submit", guarded(async (event) => {
      event.preventDefault();
      await loadMembers(true);
    }));
    $("more").addEventListener("click", guarded(() => loadMembers(false)));
    $("signout").addEventListener("click", guarded(signOut));
    $("account").addEventListener("change", guarded(async () => {
      state.account = $("account").value;
      await openTeam();
    }));
    $("language").addEventListener("change", guarded(async () => {
      state.lang = $("language").value;
      translate();
      await loadMembers(true);
    }));
    guarded(async () => {
      if (await refresh()) return openTeam();
      show("signin");
    })();
  });
})();
