// Invite: email, the roles and direct permissions the caller may grant, the profile fields a
// preset may require (the API does not say which, so all three are offered and the server's
// field errors say what it needs), and a personal message.

words({
  en: {
    "invite.title": "Invite someone", "invite.email": "Email", "invite.about": "About them",
    "invite.about_hint": "Optional, unless the marketplace asks for them: it says so if it does.",
    "invite.first_name": "First name (optional)", "invite.last_name": "Last name (optional)",
    "invite.phone": "Mobile phone (optional)", "invite.message": "Personal message (optional)",
    "invite.send": "Send invitation", "invite.sent": "An invitation was sent to {email}.",
  },
  uk: {
    "invite.title": "Запросити людину", "invite.email": "Електронна пошта", "invite.about": "Про людину",
    "invite.about_hint": "Необов'язково, якщо маркетплейс їх не вимагає: тоді він про це скаже.",
    "invite.first_name": "Ім'я (необов'язково)", "invite.last_name": "Прізвище (необов'язково)",
    "invite.phone": "Мобільний телефон (необов'язково)", "invite.message": "Особисте повідомлення (необов'язково)",
    "invite.send": "Надіслати запрошення", "invite.sent": "Запрошення надіслано: {email}.",
  },
  pl: {
    "invite.title": "Zaproś osobę", "invite.email": "E-mail", "invite.about": "O tej osobie",
    "invite.about_hint": "Opcjonalne, chyba że marketplace ich wymaga: wtedy to powie.",
    "invite.first_name": "Imię (opcjonalnie)", "invite.last_name": "Nazwisko (opcjonalnie)",
    "invite.phone": "Telefon komórkowy (opcjonalnie)", "invite.message": "Osobista wiadomość (opcjonalnie)",
    "invite.send": "Wyślij zaproszenie", "invite.sent": "Wysłano zaproszenie: {email}.",
  },
});

/** The open dialog's idempotency key: a double submit sends it twice and invites once. */
const invite = { key: null };

/** Opens the invite dialog empty, with the roles and grid of the chosen account. */
function openInvite() {
  const form = $("invite-form");
  form.reset();
  for (const input of form.querySelectorAll("[aria-invalid]")) showFieldError(input, null);
  $("invite-msg").hidden = true;
  const choices = roleChoices("invite", []);
  const roles = $("invite-roles");
  roles.replaceChildren(roles.querySelector("legend"), ...choices);
  roles.hidden = choices.length === 0;
  $("invite-permissions").replaceChildren(permissionGrid("invite", []));
  invite.key = crypto.randomUUID();
  $("invite").showModal();
  $("invite-email").focus();
}

/** Sends the invitation; the server's field errors go next to the fields. */
async function sendInvitation(event) {
  event.preventDefault();
  const form = $("invite-form");
  const data = new FormData(form);
  const body = { email: data.get("email").trim(), roles: data.getAll("roles"), permissions: data.getAll("permissions") };
  for (const field of ["first_name", "last_name", "phone", "message"]) {
    const value = data.get(field).trim();
    if (value) body[field] = value;
  }
  $("invite-submit").disabled = true;
  let invitation;
  try {
    invitation = await api("POST", `${accountPath()}/invitations`, body, { headers: { "Idempotency-Key": invite.key } });
  } catch (error) {
    return refusedIn(form, $("invite-msg"), error);
  } finally {
    $("invite-submit").disabled = false;
  }
  $("invite").close();
  await loadMembers(true);
  say(t("invite.sent", { email: invitation.email }), "ok");
}

/** Closing without sending leaves no word of a refusal behind at the top. */
function dropInvite() {
  say("");
  $("invite").close();
}

$("invite-open").addEventListener("click", openInvite);
$("invite-cancel").addEventListener("click", dropInvite);
$("invite").addEventListener("cancel", () => say(""));
$("invite").addEventListener("close", () => $("invite-open").focus());
$("invite-form").addEventListener("submit", guarded(sendInvitation));
