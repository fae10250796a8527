// Settings: the account's invitation lifetime, refused email domains, two-step policy and
// language (PATCH …/settings, users:write; read-only for the others), and the owner's transfer of
// the account to an active member, confirmed with their password (…/ownership-transfer); the
// console then opens the account again as what the former owner now is.

words({
  en: {
    "settings.readonly": "Only people who manage employees may change these settings; you can read them.",
    "settings.ttl": "How long invitation links work (hours)",
    "settings.ttl_hint": "From 1 hour up to the marketplace's own lifetime. Empty: the marketplace's.",
    "settings.ttl_needed": "Enter a number of hours from 1 up.",
    "settings.domains": "Refused email domains",
    "settings.domains_hint": "One a line, such as example.com or .su; their subdomains are refused too, besides the marketplace's own list.",
    "settings.mfa": "Two-step verification", "settings.mfa.off": "Never asked before sensitive actions",
    "settings.mfa.optional": "Each person may turn it on", "settings.mfa.required": "Everyone must turn it on",
    "settings.mfa_hint": "It can only be raised. Requiring it asks you to have it on first.",
    "settings.locale": "Account language (emails, role titles)", "settings.save": "Save settings",
    "settings.saved": "The settings are saved.",
    "settings.ttl_invalid": "Use 1 hour up to the marketplace's own lifetime: links may live shorter, not longer.",
    "settings.domains_invalid": "Each line must be a domain such as example.com or .su; at most 100.",
    "settings.mfa_invalid": "The policy can only be raised; to require it, turn it on for yourself first.",
    "transfer.title": "Transfer ownership",
    "transfer.about": "Hand this account to another active member. They will hold every permission; you keep only what the marketplace leaves a former owner. You cannot undo this yourself.",
    "transfer.none": "There is no other active member to hand the account to. Invite someone first.",
    "transfer.to": "New owner", "transfer.password": "Your password, to confirm it is you",
    "transfer.submit": "Transfer ownership", "transfer.password_needed": "Enter your password.",
    "transfer.wrong_password": "That is not your password.",
    "transfer.ask": "Make {name} the owner?",
    "transfer.ask_text": "They will hold every permission in this account, and only they can give it back.",
    "transfer.done": "{name} now owns this account.",
  },
  uk: {
    "settings.readonly": "Змінювати ці налаштування можуть лише ті, хто керує співробітниками; ви можете їх переглядати.",
    "settings.ttl": "Скільки діють посилання запрошень (годин)",
    "settings.ttl_hint": "Від 1 години до терміну, який дає маркетплейс. Порожньо: термін маркетплейсу.",
    "settings.ttl_needed": "Укажіть кількість годин, від 1.",
    "settings.domains": "Заборонені поштові домени",
    "settings.domains_hint": "По одному в рядку, наприклад example.com або .su; їхні піддомени теж заборонено, окрім списку маркетплейсу.",
    "settings.mfa": "Двоетапна перевірка", "settings.mfa.off": "Не питати перед важливими діями",
    "settings.mfa.optional": "Кожен може ввімкнути її", "settings.mfa.required": "Усі мають увімкнути її",
    "settings.mfa_hint": "Її можна лише посилити. Щоб вимагати її, спершу ввімкніть її собі.",
    "settings.locale": "Мова кабінету (листи, назви ролей)", "settings.save": "Зберегти налаштування",
    "settings.saved": "Налаштування збережено.",
    "settings.ttl_invalid": "Від 1 години до терміну маркетплейсу: посилання можуть діяти коротше, не довше.",
    "settings.domains_invalid": "Кожен рядок має бути доменом на зразок example.com або .su; не більше 100.",
    "settings.mfa_invalid": "Вимогу можна лише посилити; щоб вимагати перевірку, спершу ввімкніть її собі.",
    "transfer.title": "Передати кабінет",
    "transfer.about": "Передайте цей кабінет іншому активному користувачеві. Він матиме всі дозволи; у вас залишиться лише те, що маркетплейс лишає колишньому власнику. Скасувати це самостійно не вийде.",
    "transfer.none": "Немає іншого активного користувача, якому можна передати кабінет. Спершу запросіть когось.",
    "transfer.to": "Новий власник", "transfer.password": "Ваш пароль, щоб підтвердити, що це ви",
    "transfer.submit": "Передати кабінет", "transfer.password_needed": "Введіть свій пароль.",
    "transfer.wrong_password": "Це не ваш пароль.",
    "transfer.ask": "Зробити власником: {name}?",
    "transfer.ask_text": "Новий власник матиме всі дозволи в цьому кабінеті, і лише він зможе повернути його.",
    "transfer.done": "Тепер власник цього кабінету: {name}.",
  },
  pl: {
    "settings.readonly": "Te ustawienia mogą zmieniać tylko osoby zarządzające pracownikami; możesz je przeglądać.",
    "settings.ttl": "Jak długo działają linki zaproszeń (godziny)",
    "settings.ttl_hint": "Od 1 godziny do czasu, który daje marketplace. Puste: czas marketplace'u.",
    "settings.ttl_needed": "Podaj liczbę godzin, od 1.",
    "settings.domains": "Odrzucane domeny e-mail",
    "settings.domains_hint": "Jedna w wierszu, np. example.com lub .su; ich subdomeny też są odrzucane, oprócz listy marketplace'u.",
    "settings.mfa": "Weryfikacja dwuetapowa", "settings.mfa.off": "Nie pytaj przed ważnymi czynnościami",
    "settings.mfa.optional": "Każdy może ją włączyć", "settings.mfa.required": "Wszyscy muszą ją włączyć",
    "settings.mfa_hint": "Można ją tylko zaostrzyć. Aby jej wymagać, najpierw włącz ją sobie.",
    "settings.locale": "Język konta (e-maile, nazwy ról)", "settings.save": "Zapisz ustawienia",
    "settings.saved": "Ustawienia zapisane.",
    "settings.ttl_invalid": "Od 1 godziny do czasu marketplace'u: linki mogą działać krócej, nie dłużej.",
    "settings.domains_invalid": "Każdy wiersz musi być domeną, np. example.com lub .su; najwyżej 100.",
    "settings.mfa_invalid": "Wymóg można tylko zaostrzyć; aby go wprowadzić, najpierw włącz weryfikację sobie.",
    "transfer.title": "Przekaż własność",
    "transfer.about": "Przekaż to konto innemu aktywnemu użytkownikowi. Otrzyma wszystkie uprawnienia; tobie zostanie tylko to, co marketplace zostawia byłemu właścicielowi. Nie cofniesz tego sam.",
    "transfer.none": "Nie ma innego aktywnego użytkownika, któremu można przekazać konto. Najpierw kogoś zaproś.",
    "transfer.to": "Nowy właściciel", "transfer.password": "Twoje hasło, aby potwierdzić, że to ty",
    "transfer.submit": "Przekaż własność", "transfer.password_needed": "Wpisz swoje hasło.",
    "transfer.wrong_password": "To nie jest twoje hasło.",
    "transfer.ask": "Uczynić właścicielem: {name}?",
    "transfer.ask_text": "Otrzyma wszystkie uprawnienia na tym koncie i tylko on może je oddać.",
    "transfer.done": "Właściciel tego konta: {name}.",
  },
});

/** The two-step policies from the lowest; an account only raises its own. */
const MFA_POLICIES = ["off", "optional", "required"];

fieldWords({
  "invitation_ttl_hours.invalid_value": "settings.ttl_invalid", "blocked_email_domains.invalid_value": "settings.domains_invalid",
  "mfa.invalid_value": "settings.mfa_invalid",
});

/** Takes the field errors off every field of `form`. */
function clearFieldErrors(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) showFieldError(input, null);
}

/** Puts the account's settings in the form, each policy below the one in force offered no more. */
function fillSettings(account) {
  $("settings-ttl").value = account.settings.invitation_ttl_hours ?? "";
  $("settings-domains").value = account.settings.blocked_email_domains.join("\n");
  for (const option of $("settings-mfa").options) {
    option.disabled = MFA_POLICIES.indexOf(option.value) < MFA_POLICIES.indexOf(account.mfa);
  }
  $("settings-mfa").value = account.mfa;
  $("settings-locale").value = account.locale;
}

/** Sends what changed; the server's field errors go next to their fields. */
async function saveSettings(event) {
  event.preventDefault();
  const form = $("settings-form");
  clearFieldErrors(form);
  const account = state.account;
  const ttl = $("settings-ttl").value.trim();
  if (!ttl && account.settings.invitation_ttl_hours !== null) {
    showFieldError($("settings-ttl"), t("settings.ttl_needed"));
    return $("settings-ttl").focus();
  }
  const body = {
    blocked_email_domains: $("settings-domains").value.split("\n").map((line) => line.trim()).filter(Boolean),
  };
  if (ttl) body.invitation_ttl_hours = Number(ttl);
  if ($("settings-mfa").value !== account.mfa) body.mfa = $("settings-mfa").value;
  if ($("settings-locale").value !== account.locale) body.locale = $("settings-locale").value;
  let saved;
  try {
    saved = await api("PATCH", `/v1/accounts/${state.accountId}/settings`, body);
  } catch (error) {
    return showRefusal(form, error);
  }
  state.account = { ...account, ...saved };
  if (saved.locale !== account.locale && TEXT[saved.locale]) {
    state.lang = saved.locale;
    translate();
  }
  fillSettings(state.account);
  say(t("settings.saved"), "ok");
}

/** Offers the account's other active members as its next owner (the first 100, by the list's order). */
async function fillSuccessors() {
  const page = await api("GET", `/v1/accounts/${state.accountId}/members?status=active&limit=100`);
  const others = page.items.filter((member) => !member.is_owner);
  const called = (member) => (personName(member) === member.email ? member.email : `${personName(member)} (${member.email})`);
  $("transfer-to").replaceChildren(...others.map((member) => new Option(called(member), member.user_id)));
  $("transfer-none").hidden = others.length > 0;
  $("transfer-form").hidden = others.length === 0;
}

/** Hands the account over once confirmed, then opens it again as what the caller now is. */
async function transferOwnership(event) {
  event.preventDefault();
  const form = $("transfer-form");
  const successor = $("transfer-to");
  const password = $("transfer-password");
  clearFieldErrors(form);
  if (!password.value) {
    showFieldError(password, t("transfer.password_needed"));
    return password.focus();
  }
  const name = successor.selectedOptions[0].text;
  if (!(await confirmed(t("transfer.ask", { name }), t("transfer.ask_text"), t("transfer.submit")))) return successor.focus();
  try {
    await api("POST", `/v1/accounts/${state.accountId}/ownership-transfer`, { user_id: successor.value, password: password.value });
  } catch (error) {
    password.value = "";
    const code = error instanceof Refused ? error.problem.code : "";
    if (code === "invalid_credentials") {
      showFieldError(password, t("transfer.wrong_password"));
      return password.focus();
    }
    if (code === "member_not_active" || code === "self_action_forbidden") {
      showFieldError(successor, reason(error));
      return successor.focus();
    }
    return showRefusal(form, error);
  }
  password.value = "";
  await refresh();
  await openAccount();
  say(t("transfer.done", { name }), "ok");
  $("msg").focus();
}

screens.settings = () => busyWhile("settings", async () => {
  state.account = await api("GET", `/v1/accounts/${state.accountId}`);
  const writable = may("users:write");
  clearFieldErrors($("settings-form"));
  fillSettings(state.account);
  $("settings-fields").disabled = !writable;
  $("settings-save").hidden = !writable;
  $("settings-readonly").hidden = writable;
  const owner = Boolean(state.membership && state.membership.is_owner);
  $("transfer").hidden = !owner;
  if (owner) await fillSuccessors();
});
$("settings-form").addEventListener("submit", guarded(saveSettings));
$("transfer-form").addEventListener("submit", guarded(transferOwnership));
