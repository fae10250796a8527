// My profile: the caller's name, phone and language (PATCH /v1/me), their password (POST
// /v1/me/password), two-step verification (its state; turned on with an app's first code, off
// with the password and a code or a recovery code), and where they are signed in (one session
// ended, or all the others).

words({
  en: {
    "profile.about": "About you", "profile.email": "Email", "profile.first_name": "First name",
    "profile.last_name": "Last name", "profile.phone": "Mobile phone", "profile.locale": "Language of your emails",
    "profile.save": "Save", "profile.saved": "Your profile is saved.",
    "password.title": "Password", "password.current": "Current password", "password.new": "New password",
    "password.hint": "Changing it signs you out everywhere else.", "password.submit": "Change password",
    "password.wrong": "That is not your current password.", "password.needed": "Enter your current password.",
    "password.changed": "Your password is changed; every other session has ended.",
    "mfa.title": "Two-step verification", "mfa.turn_on": "Turn on two-step verification",
    "mfa.on": "On: signing in asks for a code from your authenticator app. Recovery codes left: {n}.",
    "mfa.off": "Off: signing in asks for your password alone.",
    "mfa.start_why": "First, your password: so that only you can add an authenticator app.",
    "mfa.next": "Next", "mfa.scan": "Scan this code with your authenticator app, or type the key into it, then enter the code it shows.",
    "mfa.qr": "QR code for your authenticator app", "mfa.key": "Key", "mfa.confirm": "Turn on",
    "mfa.wrong": "That code isn't right; try the app's newest one.", "mfa.done": "Done",
    "mfa.codes_why": "Two-step verification is on. Keep these recovery codes somewhere safe: each works once if you lose your phone. They are shown only now.",
    "mfa.turn_off": "Turn off two-step verification", "mfa.turn_off_submit": "Turn off",
    "mfa.off_why": "Signing in will ask for your password alone. Confirm with your password and a code.",
    "mfa.code_or_recovery": "Code from your authenticator app, or a recovery code",
    "mfa.turned_off": "Two-step verification is off.",
    "mfa.required_here": "An account you belong to requires two-step verification: it stays on.",
    "sessions.title": "Where you are signed in", "sessions.list": "Your sessions", "sessions.col.device": "Browser", "sessions.col.started": "Signed in",
    "sessions.col.used": "Last used", "sessions.col.actions": "Actions", "sessions.this": "This browser",
    "sessions.unknown": "Unknown browser", "sessions.end": "Sign out", "sessions.end_one": "Sign out the session begun {at}",
    "sessions.end_others": "Sign out everywhere else", "sessions.ended": "That session has ended.",
    "sessions.others_ended": "You are signed out everywhere else.",
  },
  uk: {
    "profile.about": "Про вас", "profile.email": "Електронна пошта", "profile.first_name": "Ім'я",
    "profile.last_name": "Прізвище", "profile.phone": "Мобільний телефон", "profile.locale": "Мова ваших листів",
    "profile.save": "Зберегти", "profile.saved": "Профіль збережено.",
    "password.title": "Пароль", "password.current": "Поточний пароль", "password.new": "Новий пароль",
    "password.hint": "Після зміни всі інші сеанси завершаться.", "password.submit": "Змінити пароль",
    "password.wrong": "Це не ваш поточний пароль.", "password.needed": "Введіть поточний пароль.",
    "password.changed": "Пароль змінено; усі інші сеанси завершено.",
    "mfa.title": "Двоетапна перевірка", "mfa.turn_on": "Увімкнути двоетапну перевірку",
    "mfa.on": "Увімкнено: під час входу потрібен код із застосунку автентифікації. Резервних кодів залишилося: {n}.",
    "mfa.off": "Вимкнено: для входу досить пароля.",
    "mfa.start_why": "Спершу пароль: щоб лише ви могли додати застосунок автентифікації.",
    "mfa.next": "Далі", "mfa.scan": "Відскануйте цей код застосунком автентифікації або введіть у нього ключ, потім введіть код, який він покаже.",
    "mfa.qr": "QR-код для застосунку автентифікації", "mfa.key": "Ключ", "mfa.confirm": "Увімкнути",
    "mfa.wrong": "Код неправильний; введіть найновіший код із застосунку.", "mfa.done": "Готово",
    "mfa.codes_why": "Двоетапну перевірку ввімкнено. Збережіть ці резервні коди в надійному місці: кожен спрацює один раз, якщо ви втратите телефон. Їх показано лише зараз.",
    "mfa.turn_off": "Вимкнути двоетапну перевірку", "mfa.turn_off_submit": "Вимкнути",
    "mfa.off_why": "Для входу буде досить пароля. Підтвердьте паролем і кодом.",
    "mfa.code_or_recovery": "Код із застосунку автентифікації або резервний код",
    "mfa.turned_off": "Двоетапну перевірку вимкнено.",
    "mfa.required_here": "Кабінет, до якого ви належите, вимагає двоетапної перевірки: вона лишається ввімкненою.",
    "sessions.title": "Де ви ввійшли", "sessions.list": "Ваші сеанси", "sessions.col.device": "Браузер", "sessions.col.started": "Вхід",
    "sessions.col.used": "Востаннє", "sessions.col.actions": "Дії", "sessions.this": "Цей браузер",
    "sessions.unknown": "Невідомий браузер", "sessions.end": "Вийти", "sessions.end_one": "Завершити сеанс, розпочатий {at}",
    "sessions.end_others": "Вийти всюди, крім цього браузера", "sessions.ended": "Сеанс завершено.",
    "sessions.others_ended": "Усі інші сеанси завершено.",
  },
  pl: {
    "profile.about": "O tobie", "profile.email": "E-mail", "profile.first_name": "Imię",
    "profile.last_name": "Nazwisko", "profile.phone": "Telefon komórkowy", "profile.locale": "Język twoich e-maili",
    "profile.save": "Zapisz", "profile.saved": "Profil zapisany.",
    "password.title": "Hasło", "password.current": "Obecne hasło", "password.new": "Nowe hasło",
    "password.hint": "Zmiana wyloguje cię wszędzie indziej.", "password.submit": "Zmień hasło",
    "password.wrong": "To nie jest twoje obecne hasło.", "password.needed": "Wpisz obecne hasło.",
    "password.changed": "Hasło zmienione; wszystkie inne sesje zakończone.",
    "mfa.title": "Weryfikacja dwuetapowa", "mfa.turn_on": "Włącz weryfikację dwuetapową",
    "mfa.on": "Włączona: logowanie wymaga kodu z aplikacji uwierzytelniającej. Pozostałe kody zapasowe: {n}.",
    "mfa.off": "Wyłączona: do logowania wystarczy hasło.",
    "mfa.start_why": "Najpierw hasło: aby tylko ty mógł dodać aplikację uwierzytelniającą.",
    "mfa.next": "Dalej", "mfa.scan": "Zeskanuj ten kod aplikacją uwierzytelniającą lub wpisz w niej klucz, a potem podaj kod, który pokaże.",
    "mfa.qr": "Kod QR dla aplikacji uwierzytelniającej", "mfa.key": "Klucz", "mfa.confirm": "Włącz",
    "mfa.wrong": "Ten kod jest nieprawidłowy; wpisz najnowszy kod z aplikacji.", "mfa.done": "Gotowe",
    "mfa.codes_why": "Weryfikacja dwuetapowa jest włączona. Przechowuj te kody zapasowe w bezpiecznym miejscu: każdy działa raz, jeśli zgubisz telefon. Są pokazane tylko teraz.",
    "mfa.turn_off": "Wyłącz weryfikację dwuetapową", "mfa.turn_off_submit": "Wyłącz",
    "mfa.off_why": "Do logowania wystarczy wtedy hasło. Potwierdź hasłem i kodem.",
    "mfa.code_or_recovery": "Kod z aplikacji uwierzytelniającej lub kod zapasowy",
    "mfa.turned_off": "Weryfikacja dwuetapowa jest wyłączona.",
    "mfa.required_here": "Konto, do którego należysz, wymaga weryfikacji dwuetapowej: pozostaje włączona.",
    "sessions.title": "Gdzie jesteś zalogowany", "sessions.list": "Twoje sesje", "sessions.col.device": "Przeglądarka", "sessions.col.started": "Zalogowano",
    "sessions.col.used": "Ostatnio", "sessions.col.actions": "Działania", "sessions.this": "Ta przeglądarka",
    "sessions.unknown": "Nieznana przeglądarka", "sessions.end": "Wyloguj", "sessions.end_one": "Zakończ sesję rozpoczętą {at}",
    "sessions.end_others": "Wyloguj wszędzie indziej", "sessions.ended": "Sesja zakończona.",
    "sessions.others_ended": "Wylogowano cię wszędzie indziej.",
  },
});

/** The caller as GET /v1/me answered, while the screen shows them. */
const profile = { me: null };

function fillProfile(me) {
  profile.me = me;
  $("profile-email").textContent = me.email;
  $("password-username").value = me.email;
  $("profile-first").value = me.first_name || "";
  $("profile-last").value = me.last_name || "";
  $("profile-phone").value = me.phone || "";
  $("profile-locale").value = me.locale || state.lang;
  $("mfa-state").textContent = me.mfa.enabled ? t("mfa.on", { n: me.mfa.recovery_codes_left }) : t("mfa.off");
  $("mfa-on").hidden = me.mfa.enabled;
  $("mfa-off").hidden = !me.mfa.enabled;
}

/** Sends the fields that changed (an emptied one is left as it was: the API keeps an absent field). */
async function saveProfile(event) {
  event.preventDefault();
  const form = $("profile-form");
  clearFieldErrors(form);
  const body = {};
  for (const name of ["first_name", "last_name", "phone", "locale"]) {
    const value = form.elements.namedItem(name).value.trim();
    if (value && value !== (profile.me[name] || "")) body[name] = value;
  }
  try {
    fillProfile(await api("PATCH", "/v1/me", body));
  } catch (error) {
    return showRefusal(form, error);
  }
  say(t("profile.saved"), "ok");
}

/** Changes the password; this session goes on with a token of the new version. */
async function changePassword(event) {
  event.preventDefault();
  const form = $("password-form");
  const current = $("password-current");
  clearFieldErrors(form);
  if (!current.value) {
    showFieldError(current, t("password.needed"));
    return current.focus();
  }
  try {
    await api("POST", "/v1/me/password", { current_password: current.value, new_password: $("password-new").value });
  } catch (error) {
    if (error instanceof Refused && error.problem.code === "invalid_credentials") {
      showFieldError(current, t("password.wrong"));
      return current.focus();
    }
    return showRefusal(form, error);
  }
  form.reset();
  await refresh();
  say(t("password.changed"), "ok");
  $("msg").focus();
  await loadSessions();
}

function sessionRow(session) {
  const device = session.current ? t("sessions.this") : session.user_agent || t("sessions.unknown");
  const end = session.current ? null : el("button", {
    type: "button", className: "sec", textContent: t("sessions.end"),
    ariaLabel: t("sessions.end_one", { at: when(session.created_at) }),
    onclick: guarded(async () => {
      await api("DELETE", `/v1/me/sessions/${session.id}`);
      await loadSessions();
      say(t("sessions.ended"), "ok");
      $("msg").focus();
    }),
  });
  return el("tr", {},
    el("td", {}, device, session.client_ip ? el("small", { textContent: session.client_ip }) : null),
    el("td", { textContent: when(session.created_at) }), el("td", { textContent: when(session.last_used_at) }),
    el("td", { className: "row-actions" }, end));
}

async function loadSessions() {
  const { items } = await api("GET", "/v1/me/sessions");
  $("sessions-table").tBodies[0].replaceChildren(...items.map(sessionRow));
  labelCells($("sessions-table"));
  $("sessions-end-others").hidden = !items.some((session) => !session.current);
}

async function endOtherSessions() {
  state.access = (await api("POST", "/v1/me/sessions/revoke-others")).access_token;
  await loadSessions();
  say(t("sessions.others_ended"), "ok");
  $("msg").focus();
}

/** Shows one step of turning two-step verification on: `mfa-start`, `mfa-confirm` or `mfa-done`. */
function mfaStep(id) {
  for (const step of ["mfa-start", "mfa-confirm", "mfa-done"]) $(step).hidden = step !== id;
  $(id).querySelector("input, button").focus();
}

function openMfa() {
  for (const form of [$("mfa-start"), $("mfa-confirm")]) {
    form.reset();
    clearFieldErrors(form);
  }
  $("mfa-dialog").showModal();
  mfaStep("mfa-start");
}

/** The password, then the app's secret to scan or type. */
async function startMfa(event) {
  event.preventDefault();
  const password = $("mfa-password");
  clearFieldErrors($("mfa-start"));
  let enrollment;
  try {
    enrollment = await api("POST", "/v1/me/mfa/totp", { password: password.value });
  } catch (error) {
    const wrong = error instanceof Refused && error.problem.code === "invalid_credentials";
    showFieldError(password, wrong ? t("password.wrong") : reason(error));
    return password.focus();
  }
  password.value = "";
  const qr = $("mfa-qr");
  qr.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrollment.qr_svg)}`;
  qr.alt = t("mfa.qr");
  $("mfa-secret").textContent = enrollment.secret;
  mfaStep("mfa-confirm");
}

/** The app's first code turns it on: this session's new token, and the recovery codes shown once. */
async function confirmMfa(event) {
  event.preventDefault();
  const code = $("mfa-code");
  clearFieldErrors($("mfa-confirm"));
  let turnedOn;
  try {
    turnedOn = await api("POST", "/v1/me/mfa/totp/confirm", { code: code.value.trim() });
  } catch (error) {
    showFieldError(code, error instanceof Refused && error.status === 400 ? t("mfa.wrong") : reason(error));
    return code.focus();
  }
  state.access = turnedOn.access_token;
  $("mfa-codes").replaceChildren(...turnedOn.recovery_codes.map((recovery) => el("li", {}, el("code", { textContent: recovery }))));
  mfaStep("mfa-done");
  fillProfile(await api("GET", "/v1/me"));
  await loadSessions();
}

/** A recovery code's shape (openapi.yaml, RecoveryCodes); anything else is taken for the app's code. */
const RECOVERY_CODE = /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/i;

function openMfaOff() {
  const form = $("mfa-off-form");
  form.reset();
  clearFieldErrors(form);
  $("mfa-off-dialog").showModal();
  $("mfa-off-password").focus();
}

/** Turns two-step verification off with the password and a code (or a recovery code). */
async function turnMfaOff(event) {
  event.preventDefault();
  const password = $("mfa-off-password");
  const code = $("mfa-off-code");
  clearFieldErrors($("mfa-off-form"));
  const typed = code.value.trim();
  const second = RECOVERY_CODE.test(typed) ? { recovery_code: typed.toLowerCase() } : { code: typed };
  try {
    await api("POST", "/v1/me/mfa/totp/disable", { password: password.value, ...second });
  } catch (error) {
    const problem = error instanceof Refused ? error.problem.code : "";
    if (problem === "invalid_credentials") {
      showFieldError(password, t("password.wrong"));
      return password.focus();
    }
    if (problem === "invalid_mfa_code" || problem === "validation_failed") {
      showFieldError(code, t("mfa.wrong"));
      return code.focus();
    }
    $("mfa-off-dialog").close();
    return say(problem === "mfa_required_by_account" ? t("mfa.required_here") : reason(error));
  }
  $("mfa-off-dialog").close();
  fillProfile(await api("GET", "/v1/me"));
  say(t("mfa.turned_off"), "ok");
  $("mfa-state").focus();
}

screens.profile = () => busyWhile("profile", async () => {
  $("profile-loading").hidden = false;
  $("profile-failed").hidden = true;
  try {
    fillProfile(await api("GET", "/v1/me"));
    await loadSessions();
    $("profile-view").hidden = false;
  } catch (error) {
    $("profile-failed-text").textContent = reason(error);
    $("profile-failed").hidden = false;
    $("profile-view").hidden = true;
  } finally {
    $("profile-loading").hidden = true;
  }
});
$("profile-retry").addEventListener("click", guarded(() => screens.profile()));
$("profile-form").addEventListener("submit", guarded(saveProfile));
$("password-form").addEventListener("submit", guarded(changePassword));
$("sessions-end-others").addEventListener("click", guarded(endOtherSessions));
$("mfa-on").addEventListener("click", openMfa);
$("mfa-start").addEventListener("submit", guarded(startMfa));
$("mfa-confirm").addEventListener("submit", guarded(confirmMfa));
for (const button of document.querySelectorAll(".mfa-cancel")) button.addEventListener("click", () => $("mfa-dialog").close());
$("mfa-dialog").addEventListener("close", () => ($("mfa-on").hidden ? $("mfa-state") : $("mfa-on")).focus());
$("mfa-off").addEventListener("click", openMfaOff);
$("mfa-off-form").addEventListener("submit", guarded(turnMfaOff));
$("mfa-off-cancel").addEventListener("click", () => $("mfa-off-dialog").close());
$("mfa-off-dialog").addEventListener("close", () => ($("mfa-off").hidden ? $("mfa-state") : $("mfa-off")).focus());
