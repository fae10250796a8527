// The team console's core (console.rs serves this file first, then each screen's, then
// start.js, as one module): words in three languages, the API call, the screens and the
// dialogs every screen shares. No framework and no build step: text goes into the page as text.
// The access token lives in memory only; the refresh token in this tab's sessionStorage, so a
// reload keeps the session: a script able to read it (this origin's, or an extension granted
// this site) could read the page's memory, and so the access token, as well.

/** Every word the console shows, by language; each screen adds its own with `words`. */
const TEXT = {
  en: {
    "signin.title": "Sign in", "signin.email": "Email", "signin.password": "Password",
    "signin.code": "Code from your authenticator app", "signin.submit": "Sign in",
    "signin.forgot": "Forgot your password?", "signin.wrong": "The email or password is incorrect.",
    "signin.code_needed": "Enter the code from your authenticator app.",
    "signin.code_wrong": "That code isn't right; sign in again.",
    "team.account": "Account", "team.language": "Language", "team.signout": "Sign out",
    "team.none": "You are not an active member of any account.",
    "nav.label": "Console", "nav.members": "Members", "nav.invitations": "Invitations", "nav.audit": "Audit log",
    "nav.settings": "Settings", "nav.profile": "My profile",
    "confirm.cancel": "Cancel", "step_up.title": "Confirm it is you",
    "step_up.why": "This action needs a code from your authenticator app.", "step_up.submit": "Confirm",
    "step_up.wrong": "That code isn't right.", "never": "Never",
    "loading": "Loading…", "more": "Show more", "retry": "Try again",
    "wait": "Too many attempts: try again in {s} seconds.", "failed": "Something went wrong; try again.",
    "field.password_too_short": "Use at least {n} characters.", "field.password_too_long": "Use at most {n} characters.",
    "field.password_too_common": "This password is too common or appeared in a breach; choose another.",
    "field.password_invalid_characters": "Use only the characters this marketplace allows in a password.",
    "field.invalid_name": "This name does not suit the marketplace's rules.",
    "field.invalid_phone": "Enter a mobile number in the format the marketplace asks for.",
    "field.required": "Fill in this field.", "field.invalid_email": "Enter an email address such as name@example.com.",
    "field.blocked_email_domain": "This account does not invite addresses of this domain.",
    "field_errors": "Some fields need another look.", "denied": "You may not do that in this account.",
  },
  uk: {
    "signin.title": "Вхід", "signin.email": "Електронна пошта", "signin.password": "Пароль",
    "signin.code": "Код із застосунку автентифікації", "signin.submit": "Увійти",
    "signin.forgot": "Забули пароль?", "signin.wrong": "Неправильна електронна пошта або пароль.",
    "signin.code_needed": "Введіть код із застосунку автентифікації.",
    "signin.code_wrong": "Код неправильний; увійдіть знову.",
    "team.account": "Кабінет", "team.language": "Мова", "team.signout": "Вийти",
    "team.none": "Ви не є активним користувачем жодного кабінету.",
    "nav.label": "Консоль", "nav.members": "Користувачі", "nav.invitations": "Запрошення", "nav.audit": "Журнал дій",
    "nav.settings": "Налаштування", "nav.profile": "Мій профіль",
    "confirm.cancel": "Скасувати", "step_up.title": "Підтвердьте, що це ви",
    "step_up.why": "Ця дія потребує коду із застосунку автентифікації.", "step_up.submit": "Підтвердити",
    "step_up.wrong": "Код неправильний.", "never": "Ніколи",
    "loading": "Завантаження…", "more": "Показати ще", "retry": "Спробувати ще",
    "wait": "Забагато спроб: повторіть через {s} с.", "failed": "Щось пішло не так; спробуйте ще раз.",
    "field.password_too_short": "Щонайменше {n} символів.", "field.password_too_long": "Не більше {n} символів.",
    "field.password_too_common": "Цей пароль надто поширений або був у витоку; оберіть інший.",
    "field.password_invalid_characters": "Використовуйте лише символи, дозволені маркетплейсом у паролі.",
    "field.invalid_name": "Це ім'я не відповідає правилам маркетплейсу.",
    "field.invalid_phone": "Введіть мобільний номер у форматі, якого вимагає маркетплейс.",
    "field.required": "Заповніть це поле.", "field.invalid_email": "Введіть адресу на зразок name@example.com.",
    "field.blocked_email_domain": "Цей кабінет не запрошує адреси з цього домену.",
    "field_errors": "Деякі поля треба виправити.", "denied": "У цьому кабінеті вам це не дозволено.",
  },
  pl: {
    "signin.title": "Logowanie", "signin.email": "E-mail", "signin.password": "Hasło",
    "signin.code": "Kod z aplikacji uwierzytelniającej", "signin.submit": "Zaloguj się",
    "signin.forgot": "Nie pamiętasz hasła?", "signin.wrong": "Nieprawidłowy e-mail lub hasło.",
    "signin.code_needed": "Wpisz kod z aplikacji uwierzytelniającej.",
    "signin.code_wrong": "Ten kod jest nieprawidłowy; zaloguj się ponownie.",
    "team.account": "Konto", "team.language": "Język", "team.signout": "Wyloguj się",
    "team.none": "Nie jesteś aktywnym członkiem żadnego konta.",
    "nav.label": "Konsola", "nav.members": "Użytkownicy", "nav.invitations": "Zaproszenia", "nav.audit": "Dziennik zdarzeń",
    "nav.settings": "Ustawienia", "nav.profile": "Mój profil",
    "confirm.cancel": "Anuluj", "step_up.title": "Potwierdź, że to ty",
    "step_up.why": "Ta czynność wymaga kodu z aplikacji uwierzytelniającej.", "step_up.submit": "Potwierdź",
    "step_up.wrong": "Ten kod jest nieprawidłowy.", "never": "Nigdy",
    "loading": "Wczytywanie…", "more": "Pokaż więcej", "retry": "Spróbuj ponownie",
    "wait": "Zbyt wiele prób: spróbuj ponownie za {s} s.", "failed": "Coś poszło nie tak; spróbuj ponownie.",
    "field.password_too_short": "Użyj co najmniej {n} znaków.", "field.password_too_long": "Użyj najwyżej {n} znaków.",
    "field.password_too_common": "To hasło jest zbyt popularne lub wyciekło; wybierz inne.",
    "field.password_invalid_characters": "Używaj tylko znaków, na które marketplace pozwala w haśle.",
    "field.invalid_name": "To imię nie spełnia zasad marketplace'u.",
    "field.invalid_phone": "Wpisz numer komórkowy w formacie, którego wymaga marketplace.",
    "field.required": "Wypełnij to pole.", "field.invalid_email": "Wpisz adres, np. name@example.com.",
    "field.blocked_email_domain": "To konto nie zaprasza adresów z tej domeny.",
    "field_errors": "Niektóre pola wymagają poprawy.", "denied": "Nie możesz tego zrobić na tym koncie.",
  },
};

/** A screen's own words, merged into `TEXT` (`{en: {...}, uk: {...}, pl: {...}}`). */
function words(more) {
  for (const lang of Object.keys(TEXT)) Object.assign(TEXT[lang], more[lang]);
}

const REFRESH = "teamgate.refresh";
/** The account this tab shows (not a secret: the server checks every request). */
const ACCOUNT = "teamgate.account";
const $ = (id) => document.getElementById(id);

/**
 * What the console knows: the session, the chosen account (`membership` is the caller's in it,
 * `account` the account itself, `roles` its roles and permission catalog) and the language.
 */
const state = {
  access: null, challenge: null, memberships: [], accountId: null, membership: null, account: null,
  roles: { items: [], permission_catalog: [] }, lang: "en", screen: "members", refreshing: null,
};

/** A word in the chosen language, `{name}`s filled from `values`. */
const t = (key, values = {}) =>
  (TEXT[state.lang][key] || TEXT.en[key] || key).replace(/\{(\w+)\}/g, (_, name) => values[name]);

/** Puts every `data-t` element's word (and `data-t-label`'s aria-label) in the chosen language. */
function translate() {
  document.documentElement.lang = state.lang;
  $("language").value = state.lang;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  for (const node of document.querySelectorAll("[data-t-label]")) node.setAttribute("aria-label", t(node.dataset.tLabel));
}

/** An element with `props` set and `children` (strings become text, never markup) appended. */
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

/** Tells the person something in the message area at the top (`kind`: err or ok). */
function say(text, kind = "err") {
  const msg = $("msg");
  msg.className = text ? `is-${kind}` : "";
  msg.textContent = text || "";
}

/** A refused request, carrying the server's problem+json. */
class Refused extends Error {
  constructor(status, problem) {
    super((problem && problem.detail) || t("failed"));
    this.status = status;
    this.problem = problem || {};
  }
}

/** The reason a refusal shows the person: 429's wait, a denial, or the server's own detail. */
function reason(error) {
  if (!(error instanceof Refused)) return t("failed");
  if (error.status === 429) return t("wait", { s: error.retryAfter || "60" });
  if (error.status === 403 && error.problem.code === "forbidden") return t("denied");
  return error.message;
}

/**
 * The API at `path`: the body it answered (null for 204), or a `Refused` thrown. An expired
 * access token is refreshed once; an action that needs a fresh second step asks for the code
 * and is sent again.
 */
async function api(method, path, body, { retried = false, headers: extra = {} } = {}) {
  // A request made while a refresh is under way waits for its token (the refresh's own does not).
  if (state.refreshing && !retried) await state.refreshing;
  const headers = { Accept: "application/json", ...extra };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const sentWith = state.access;
  if (sentWith) headers.Authorization = `Bearer ${sentWith}`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.ok) return data;
  // Only an expired or ended token is refreshed: a wrong password (401 invalid_credentials)
  // is the person's to retype, not a reason to send it twice.
  const expired = response.status === 401 && data && data.code === "unauthenticated";
  if (expired && sentWith && !retried && (await renewedSince(sentWith))) {
    return api(method, path, body, { retried: true, headers: extra });
  }
  if (response.status === 403 && data && data.code === "mfa_step_up_required" && !retried && (await stepUp())) {
    return api(method, path, body, { retried: true, headers: extra });
  }
  const refused = new Refused(response.status, data);
  refused.retryAfter = response.headers.get("Retry-After");
  throw refused;
}

/**
 * Whether a token newer than `sentWith` is there to send again with: one another request's
 * refresh already brought, or else this one's (shared with any under way).
 */
function renewedSince(sentWith) {
  if (!state.refreshing && state.access && state.access !== sentWith) return true;
  return refresh();
}

/**
 * A new access token from the refresh token this tab keeps; false when there is none (left).
 * Requests that find the token expired together share one refresh: a refresh token is good
 * once, and the server takes a second use of it for a thief's and ends the session.
 */
function refresh() {
  state.refreshing = state.refreshing || renew().finally(() => {
    state.refreshing = null;
  });
  return state.refreshing;
}

async function renew() {
  const token = sessionStorage.getItem(REFRESH);
  if (!token) return false;
  state.access = null;
  try {
    begin(await api("POST", "/v1/sessions/refresh", { refresh_token: token }, { retried: true }));
    return true;
  } catch {
    sessionStorage.removeItem(REFRESH);
    return false;
  }
}

/** Keeps a session the server answered. */
function begin(session) {
  state.access = session.access_token;
  sessionStorage.setItem(REFRESH, session.refresh_token);
  state.memberships = session.memberships.filter((m) => m.status === "active");
  state.membership = state.memberships.find((m) => m.account_id === state.accountId) || null;
}

/** Asks for the code of a step-up in its dialog; true once the server took one. */
function stepUp() {
  const dialog = $("step-up");
  const form = $("step-up-form");
  const code = $("step-up-code");
  code.value = "";
  showFieldError(code, null);
  return new Promise((resolve) => {
    const done = (taken) => {
      form.onsubmit = null;
      $("step-up-cancel").onclick = null;
      dialog.onclose = null;
      dialog.close();
      resolve(taken);
    };
    form.onsubmit = async (event) => {
      event.preventDefault();
      try {
        const fresh = await api("POST", "/v1/sessions/step-up", { code: code.value.trim() }, { retried: true });
        state.access = fresh.access_token;
        done(true);
      } catch (error) {
        showFieldError(code, error instanceof Refused && error.status === 400 ? t("step_up.wrong") : reason(error));
      }
    };
    $("step-up-cancel").onclick = () => done(false);
    dialog.onclose = () => done(false);
    dialog.showModal();
  });
}

/**
 * Whether the caller holds `permission` in the chosen account (the owner holds every one); a
 * section's write includes its read, which effective permissions then leave out.
 */
function may(permission) {
  const m = state.membership;
  const write = permission.replace(/:read$/, ":write");
  return Boolean(m && (m.is_owner || m.effective_permissions.includes(permission) || m.effective_permissions.includes(write)));
}

/** `instant` in the viewer's own locale and time zone. */
function when(instant) {
  if (!instant) return t("never");
  return new Date(instant).toLocaleString(navigator.language, { dateStyle: "medium", timeStyle: "short" });
}

/** Shows `message` under `input` (null clears it); its `<p class=err>` is `<input id>-err`. */
function showFieldError(input, message) {
  let note = $(`${input.id}-err`);
  if (!note) {
    note = el("p", { id: `${input.id}-err`, className: "err" });
    input.after(note);
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), note.id].filter(Boolean).join(" "));
  }
  note.textContent = message || "";
  note.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

/**
 * Our words for the server's field errors (its messages are English), by `field.code` or by
 * code alone; a screen adds its own fields' with `fieldWords`.
 */
const FIELD_WORDS = {
  required: "field.required", invalid_email: "field.invalid_email", blocked_email_domain: "field.blocked_email_domain",
  password_too_short: "field.password_too_short", password_too_long: "field.password_too_long",
  password_too_common: "field.password_too_common", password_invalid_characters: "field.password_invalid_characters",
  invalid_name: "field.invalid_name", invalid_phone: "field.invalid_phone",
};

function fieldWords(more) {
  Object.assign(FIELD_WORDS, more);
}

/** A field error's message in the chosen language where we have words for it (a number it names kept). */
function fieldMessage(field) {
  const key = FIELD_WORDS[`${field.field.replace(/\[.*$/, "")}.${field.code}`] || FIELD_WORDS[field.code];
  return key ? t(key, { n: (/\d+/.exec(field.message) || [""])[0] }) : field.message;
}

/**
 * Puts a refusal's field errors next to `form`'s fields (by name; `roles[0]` goes to `roles`),
 * and says the rest at the top. The first field in error takes the focus.
 */
function showRefusal(form, error) {
  for (const input of form.querySelectorAll("[aria-invalid]")) showFieldError(input, null);
  const fields = (error instanceof Refused && error.problem.errors) || [];
  let first = null;
  const unplaced = [];
  for (const field of fields) {
    const name = field.field.replace(/\[.*$/, "");
    const input = form.elements.namedItem(name);
    const target = input && (input.id ? input : input[0]);
    if (target && target.id) {
      showFieldError(target, fieldMessage(field));
      first = first || target;
    } else unplaced.push(fieldMessage(field));
  }
  if (first) {
    say([t("field_errors"), ...unplaced].join(" "));
    first.focus();
  } else {
    say(reason(error));
    $("msg").focus();
  }
}

/** Asks, in the confirm dialog, before something that cannot be undone; true when confirmed. */
function confirmed(title, text, action) {
  const dialog = $("confirm");
  $("confirm-h").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = action;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.onclose = () => resolve(dialog.returnValue === "ok");
    dialog.showModal();
  });
}

/** The screens by name: each opens itself (reads what it shows) when chosen. */
const screens = {};

/** Shows the screen `name` (from the address's `#/name`) and opens it. */
async function go(name) {
  state.screen = Object.hasOwn(screens, name) ? name : "members";
  for (const section of document.querySelectorAll("[data-screen]")) section.hidden = section.dataset.screen !== state.screen;
  for (const link of document.querySelectorAll("[data-screen-link]")) {
    if (link.dataset.screenLink === state.screen) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  say("");
  await screens[state.screen]();
}

/** Runs an event's handler, saying what went wrong instead of leaving it in the console. */
const guarded = (handler) => (event) => Promise.resolve(handler(event)).catch((error) => say(reason(error)));
