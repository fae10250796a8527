// Invite: email, the roles and direct permissions the caller may grant, the profile fields the
// preset asks for (the roles list's `profile_fields`: required, optional or not asked), and a
// personal message.

words({
  en: {
    "invite.title": "Invite someone", "invite.email": "Email", "invite.about": "About them",
    "invite.about_hint": "What the marketplace asks of each person; they can add the rest themselves.",
    "invite.first_name": "First name", "invite.last_name": "Last name", "invite.phone": "Mobile phone",
    "invite.optional": "{label} (optional)", "invite.message": "Personal message (optional)",
    "invite.send": "Send invitation", "invite.sent": "An invitation was sent to {email}.",
  },
  uk: {
    "invite.title": "Запросити людину", "invite.email": "Електронна пошта", "invite.about": "Про людину",
    "invite.about_hint": "Те, що маркетплейс вимагає про кожного; решту людина може додати сама.",
    "invite.first_name": "Ім'я", "invite.last_name": "Прізвище", "invite.phone": "Мобільний телефон",
    "invite.optional": "{label} (необов'язково)", "invite.message": "Особисте повідомлення (необов'язково)",
    "invite.send": "Надіслати запрошення", "invite.sent": "Запрошення надіслано: {email}.",
  },
  pl: {
    "invite.title": "Zaproś osobę", "invite.email": "E-mail", "invite.about": "O tej osobie",
    "invite.about_hint": "To, czego marketplace wymaga o każdej osobie; resztę może dodać sama.",
    "invite.first_name": "Imię", "invite.last_name": "Nazwisko", "invite.phone": "Telefon komórkowy",
    "invite.optional": "{label} (opcjonalnie)", "invite.message": "Osobista wiadomość (opcjonalnie)",
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
  askProfile();
  invite.key = crypto.randomUUID();
  $("invite").showModal();
  $("invite-email").focus();
}

/** Labels each profile field as the preset asks for it, and leaves out one it does not ask. */
function askProfile() {
  const fields = { first_name: "invite-first-name", last_name: "invite-last-name", phone: "invite-phone" };
  for (const [field, id] of Object.entries(fields)) {
    const asked = state.roles.profile_fields[field];
    const input = $(id);
    const label = t(`invite.${field}`);
    input.closest(".f").hidden = asked === "hidden";
    input.required = asked === "required";
    input.labels[0].textContent = asked === "required" ? label : t("invite.optional", { label });
  }
  $("invite-about").hidden = Object.values(fields).every((id) => $(id).closest(".f").hidden);
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
