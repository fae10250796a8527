// Members: the account's people with search, status and role filters and paging; a member's
// detail (roles with their descriptions, direct and effective permissions) and what the caller
// may do to them. The role choices and the section × read/write grid here are the invite's too.

words({
  en: {
    "team.title": "Members", "team.search": "Search by name or email", "team.status": "Status",
    "team.role": "Role", "role.any": "Any role", "team.list": "List of members",
    "team.filter": "Show", "team.loading": "Loading…", "team.empty": "No one matches.", "team.more": "Show more",
    "status.any": "Any status", "status.active": "Active", "status.not_activated": "Not activated",
    "status.blocked": "Blocked", "col.person": "Person", "col.roles": "Roles and permissions", "col.status": "Status",
    "col.last": "Last sign-in", "invite.open": "Invite someone",
    "member.open": "Details of {name}", "member.close": "Close", "member.roles": "Roles", "member.none": "None.",
    "member.owner_all": "The owner may do everything in the account.",
    "member.change_roles": "Change roles", "member.save": "Save roles and permissions",
    "member.direct": "Direct permissions", "member.effective": "Effective permissions",
    "member.effective_why": "Everything this person may do: their roles and direct permissions together.",
    "member.no_invitation": "No invitation waiting for this person was found.",
    "grid.legend": "Direct permissions", "grid.section": "Section", "grid.read": "Read", "grid.write": "Write",
    "grid.hint": "Write includes read. You may grant only what you hold yourself.",
    "grid.label": "{section}: {level}", "perm.read": "read", "perm.write": "read and write",
    "action.block": "Block", "action.unblock": "Unblock", "action.delete": "Delete",
    "action.resend": "Resend invitation", "action.revoke": "Revoke invitation",
    "ask.block": "Block {name}?", "ask.block_text": "Their sessions end at once; they cannot sign in to this account until unblocked.",
    "ask.delete": "Delete {name}?", "ask.delete_text": "They lose access to this account. This cannot be undone.",
    "ask.revoke": "Revoke the invitation to {name}?", "ask.revoke_text": "The link stops working at once.",
    "done.block": "{name} is blocked.", "done.unblock": "{name} is unblocked.", "done.delete": "{name} was deleted.",
    "done.resend": "A new invitation was sent to {name}.", "done.revoke": "The invitation to {name} was revoked.",
    "done.grant": "The roles and permissions of {name} were saved.",
  },
  uk: {
    "team.title": "Користувачі", "team.search": "Пошук за ім'ям або поштою", "team.status": "Статус",
    "team.role": "Роль", "role.any": "Будь-яка роль", "team.list": "Список користувачів",
    "team.filter": "Показати", "team.loading": "Завантаження…", "team.empty": "Нікого не знайдено.",
    "team.more": "Показати ще", "status.any": "Будь-який статус", "status.active": "Активний",
    "status.not_activated": "Не активований", "status.blocked": "Заблокований", "col.person": "Користувач",
    "col.roles": "Ролі та дозволи", "col.status": "Статус", "col.last": "Останній вхід",
    "invite.open": "Запросити",
    "member.open": "Докладно: {name}", "member.close": "Закрити", "member.roles": "Ролі", "member.none": "Немає.",
    "member.owner_all": "Власник може робити в кабінеті все.",
    "member.change_roles": "Змінити ролі", "member.save": "Зберегти ролі та дозволи",
    "member.direct": "Окремі дозволи", "member.effective": "Чинні дозволи",
    "member.effective_why": "Усе, що може ця людина: її ролі та окремі дозволи разом.",
    "member.no_invitation": "Запрошення, що чекає на цю людину, не знайдено.",
    "grid.legend": "Окремі дозволи", "grid.section": "Розділ", "grid.read": "Перегляд", "grid.write": "Зміна",
    "grid.hint": "Зміна містить перегляд. Надати можна лише те, що маєте самі.",
    "grid.label": "{section}: {level}", "perm.read": "перегляд", "perm.write": "перегляд і зміна",
    "action.block": "Заблокувати", "action.unblock": "Розблокувати", "action.delete": "Видалити",
    "action.resend": "Надіслати запрошення ще раз", "action.revoke": "Відкликати запрошення",
    "ask.block": "Заблокувати: {name}?", "ask.block_text": "Їхні сеанси завершаться одразу; увійти в цей кабінет не вийде, доки їх не розблокують.",
    "ask.delete": "Видалити: {name}?", "ask.delete_text": "Доступ до цього кабінету буде втрачено. Це не можна скасувати.",
    "ask.revoke": "Відкликати запрошення для {name}?", "ask.revoke_text": "Посилання одразу перестане працювати.",
    "done.block": "Заблоковано: {name}.", "done.unblock": "Розблоковано: {name}.", "done.delete": "Видалено: {name}.",
    "done.resend": "Нове запрошення надіслано: {name}.", "done.revoke": "Запрошення для {name} відкликано.",
    "done.grant": "Ролі та дозволи збережено: {name}.",
  },
  pl: {
    "team.title": "Użytkownicy", "team.search": "Szukaj po nazwisku lub e-mailu", "team.status": "Status",
    "team.role": "Rola", "role.any": "Dowolna rola", "team.list": "Lista użytkowników",
    "team.filter": "Pokaż", "team.loading": "Wczytywanie…", "team.empty": "Nikt nie pasuje.",
    "team.more": "Pokaż więcej", "status.any": "Dowolny status", "status.active": "Aktywny",
    "status.not_activated": "Nieaktywowany", "status.blocked": "Zablokowany", "col.person": "Osoba",
    "col.roles": "Role i uprawnienia", "col.status": "Status", "col.last": "Ostatnie logowanie",
    "invite.open": "Zaproś",
    "member.open": "Szczegóły: {name}", "member.close": "Zamknij", "member.roles": "Role", "member.none": "Brak.",
    "member.owner_all": "Właściciel może na koncie wszystko.",
    "member.change_roles": "Zmień role", "member.save": "Zapisz role i uprawnienia",
    "member.direct": "Uprawnienia bezpośrednie", "member.effective": "Uprawnienia efektywne",
    "member.effective_why": "Wszystko, co ta osoba może zrobić: jej role i uprawnienia bezpośrednie razem.",
    "member.no_invitation": "Nie znaleziono zaproszenia czekającego na tę osobę.",
    "grid.legend": "Uprawnienia bezpośrednie", "grid.section": "Sekcja", "grid.read": "Odczyt", "grid.write": "Zapis",
    "grid.hint": "Zapis obejmuje odczyt. Możesz nadać tylko to, co sam masz.",
    "grid.label": "{section}: {level}", "perm.read": "odczyt", "perm.write": "odczyt i zapis",
    "action.block": "Zablokuj", "action.unblock": "Odblokuj", "action.delete": "Usuń",
    "action.resend": "Wyślij zaproszenie ponownie", "action.revoke": "Cofnij zaproszenie",
    "ask.block": "Zablokować: {name}?", "ask.block_text": "Sesje tej osoby kończą się od razu; nie zaloguje się do tego konta, dopóki nie zostanie odblokowana.",
    "ask.delete": "Usunąć: {name}?", "ask.delete_text": "Ta osoba straci dostęp do konta. Tego nie można cofnąć.",
    "ask.revoke": "Cofnąć zaproszenie dla {name}?", "ask.revoke_text": "Link od razu przestanie działać.",
    "done.block": "Zablokowano: {name}.", "done.unblock": "Odblokowano: {name}.", "done.delete": "Usunięto: {name}.",
    "done.resend": "Wysłano nowe zaproszenie: {name}.", "done.revoke": "Cofnięto zaproszenie dla {name}.",
    "done.grant": "Zapisano role i uprawnienia: {name}.",
  },
});

/** The list's paging, who the caller is (never acted on), and the member the detail shows. */
const members = { cursor: null, me: null, shown: null, opener: null };

/** A role's title in the account's language (its name when the account has no such role). */
const roleTitle = (name) => (state.roles.items.find((role) => role.name === name) || { title: name }).title;

/** A person's name as written, or their email when they gave none. */
const personName = (member) => [member.first_name, member.last_name].filter(Boolean).join(" ") || member.email;

const accountPath = () => `/v1/accounts/${state.accountId}`;

/** `permissions` by catalog section: "Orders: read and write" (write implies read). */
function permissionLevels(permissions) {
  return state.roles.permission_catalog.flatMap((section) => {
    const [read, write] = section.permissions;
    const level = permissions.includes(write) ? "write" : permissions.includes(read) ? "read" : null;
    return level ? [t("grid.label", { section: section.title, level: t(`perm.${level}`) })] : [];
  });
}

/** The items of a list, or one "None." when there are none. */
function listed(list, items) {
  list.replaceChildren(...(items.length ? items : [t("member.none")]).map((item) => el("li", {}, item)));
}

/** A checkbox with its label beside it (`detail`, if any, under the label). */
function checkbox(name, value, id, checked, text, detail) {
  const input = el("input", { type: "checkbox", name, value, id, checked });
  return el("div", { className: "choice" }, input,
    el("label", { htmlFor: id }, text, detail ? el("small", { textContent: detail }) : null));
}

/** The roles the caller may grant, as checkboxes named `roles` (`chosen` checked). */
function roleChoices(prefix, chosen) {
  return state.roles.items.filter((role) => role.assignable_by_me)
    .map((role) => checkbox("roles", role.name, `${prefix}-role-${role.name}`, chosen.includes(role.name), role.title, role.description));
}

/**
 * The section × read/write grid of the account's permission catalog, as checkboxes named
 * `permissions` (`chosen` checked); only what the caller holds can be ticked, since nobody
 * grants more than they have.
 */
function permissionGrid(prefix, chosen) {
  const cell = (section, permission, level) => {
    const input = el("input", {
      type: "checkbox", name: "permissions", value: permission, id: `${prefix}-${permission.replace(":", "-")}`,
      checked: chosen.includes(permission), disabled: !may(permission),
    });
    input.setAttribute("aria-label", t("grid.label", { section: section.title, level: t(`perm.${level}`) }));
    return el("td", {}, input);
  };
  const head = el("tr", {}, ...["grid.section", "grid.read", "grid.write"].map((key) => el("th", { scope: "col", textContent: t(key) })));
  const rows = state.roles.permission_catalog.map((section) => el("tr", {},
    el("th", { scope: "row", textContent: section.title }),
    cell(section, section.permissions[0], "read"), cell(section, section.permissions[1], "write")));
  return el("fieldset", { className: "grid" }, el("legend", { textContent: t("grid.legend") }),
    el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)),
    el("p", { className: "hint", textContent: t("grid.hint") }));
}

/**
 * Shows a refusal of a form in a dialog: field errors next to the fields (`showRefusal`), and
 * in the dialog's `note` what has no field there (the message area at the top is behind it).
 */
function refusedIn(form, note, error) {
  showRefusal(form, error);
  const fields = (error instanceof Refused && error.problem.errors) || [];
  const elsewhere = fields.filter((field) => !form.elements.namedItem(field.field.replace(/\[.*$/, ""))).map(fieldMessage);
  note.textContent = fields.length ? [t("field_errors"), ...elsewhere].join(" ") : reason(error);
  note.hidden = false;
  if (!form.querySelector("[aria-invalid]")) note.focus();
}

function memberRow(member) {
  const open = el("button", { type: "button", className: "link", textContent: personName(member) });
  open.dataset.user = member.user_id;
  open.setAttribute("aria-label", t("member.open", { name: personName(member) }));
  open.addEventListener("click", () => openMember(member));
  const person = el("td", {}, open, member.first_name || member.last_name ? el("small", { textContent: member.email }) : null);
  const granted = member.is_owner ? [state.roles.owner_title] : member.roles.map(roleTitle).concat(permissionLevels(member.permissions));
  const status = el("td", {}, el("span", { className: `badge is-${member.status}`, textContent: t(`status.${member.status}`) }));
  return el("tr", {}, person, status, el("td", { textContent: granted.join(", ") }),
    el("td", { textContent: when(member.last_login_at) }));
}

/** Reads the list (again from the start when `fresh`), saying so while it loads or if it fails. */
async function loadMembers(fresh) {
  const body = $("members").tBodies[0];
  if (fresh) {
    members.cursor = null;
    body.replaceChildren();
  }
  const query = new URLSearchParams({ limit: "20" });
  for (const name of ["q", "status", "role"]) if ($(name).value) query.set(name, $(name).value);
  if (members.cursor) query.set("cursor", members.cursor);
  $("loading").hidden = false;
  $("members-failed").hidden = true;
  try {
    const page = await api("GET", `${accountPath()}/members?${query}`);
    body.append(...page.items.map(memberRow));
    members.cursor = page.next_cursor;
  } catch (error) {
    $("members-failed-text").textContent = reason(error);
    $("members-failed").hidden = false;
  } finally {
    $("loading").hidden = true;
    $("members").hidden = body.rows.length === 0;
    $("empty").hidden = body.rows.length !== 0 || !$("members-failed").hidden;
    $("more").hidden = !members.cursor;
  }
}

/** Whether the caller may act on `member`: with users:write, holding all they hold, not the owner or oneself. */
const manageable = (member) => may("users:write") && !member.is_owner && member.user_id !== members.me
  && member.effective_permissions.every(may);

/** The pending invitation that let `member` in (their newest, sent or lapsed), or null. */
async function invitationOf(member) {
  const query = new URLSearchParams({ email: member.email, limit: "20" });
  const page = await api("GET", `${accountPath()}/invitations?${query}`);
  return page.items.find((i) => i.email === member.email && (i.status === "sent" || i.status === "expired")) || null;
}

/** What each action sends, whether it is asked about first, and which statuses offer it. */
const ACTIONS = {
  block: { ask: true, on: ["active"], send: (m) => api("POST", `${accountPath()}/members/${m.user_id}/block`) },
  unblock: { on: ["blocked"], send: (m) => api("POST", `${accountPath()}/members/${m.user_id}/unblock`) },
  resend: {
    on: ["not_activated"],
    send: (_, invitation) => api("POST", `${accountPath()}/invitations/${invitation.id}/resend`, undefined,
      { headers: { "Idempotency-Key": crypto.randomUUID() } }),
  },
  revoke: { ask: true, on: ["not_activated"], send: (_, invitation) => api("POST", `${accountPath()}/invitations/${invitation.id}/revoke`) },
  delete: { ask: true, on: ["active", "blocked"], send: (m) => api("DELETE", `${accountPath()}/members/${m.user_id}`) },
};

/** Says `text` in the detail, where the person is looking (null clears it). */
function noted(text) {
  const note = $("member-msg");
  note.textContent = text || "";
  note.hidden = !text;
  if (text) note.focus();
}

/**
 * Does `action` to `member` (asking first when it cannot be undone; the detail's buttons wait
 * while it is sent, so a second click sends nothing), then shows the list again.
 */
async function act(action, member) {
  const name = personName(member);
  const { ask, send } = ACTIONS[action];
  if (ask && !(await confirmed(t(`ask.${action}`, { name }), t(`ask.${action}_text`), t(`action.${action}`)))) return;
  const buttons = [...$("member-actions").children];
  for (const button of buttons) button.disabled = true;
  try {
    const pending = member.status === "not_activated";
    const invitation = pending ? await invitationOf(member) : null;
    if (pending && !invitation) return noted(t("member.no_invitation"));
    await send(member, invitation);
  } finally {
    for (const button of buttons) button.disabled = false;
  }
  await reopenList(member, t(`done.${action}`, { name }));
}

/** Closes the detail, reads the list again, says `done`, and gives the focus back to the member's row. */
async function reopenList(member, done) {
  $("member").close();
  await loadMembers(true);
  say(done, "ok");
  const row = document.querySelector(`#members button[data-user="${CSS.escape(member.user_id)}"]`);
  (row || $("msg")).focus();
}

/** Opens `member`'s detail: what they hold and may do, and what the caller may change. */
function openMember(member) {
  members.shown = member;
  say("");
  $("member-h").textContent = personName(member);
  $("member-email").textContent = member.email;
  $("member-email").hidden = personName(member) === member.email;
  $("member-status").textContent = t(`status.${member.status}`);
  $("member-last").textContent = when(member.last_login_at);
  const described = (name) => {
    const role = state.roles.items.find((r) => r.name === name);
    return el("span", {}, el("strong", { textContent: roleTitle(name) }), role ? el("small", { textContent: role.description }) : null);
  };
  listed($("member-roles"), member.is_owner ? [t("member.owner_all")] : member.roles.map(described));
  $("member-roles").parentElement.hidden = !member.is_owner && state.roles.items.length === 0;
  listed($("member-direct-list"), permissionLevels(member.permissions));
  listed($("member-effective"), permissionLevels(member.effective_permissions));

  const manage = manageable(member);
  const form = $("member-grant");
  form.hidden = !manage;
  $("member-direct").hidden = manage;
  if (manage) {
    const choices = roleChoices("member", member.roles);
    const fieldset = $("member-grant-roles");
    fieldset.replaceChildren(fieldset.querySelector("legend"), ...choices);
    fieldset.hidden = choices.length === 0;
    $("member-grant-permissions").replaceChildren(permissionGrid("member", member.permissions));
  }
  noted(null);
  const offered = manage ? Object.keys(ACTIONS).filter((action) => ACTIONS[action].on.includes(member.status)) : [];
  $("member-actions").replaceChildren(...offered.map((action) => {
    const button = el("button", { type: "button", className: ACTIONS[action].ask ? "danger" : "sec", textContent: t(`action.${action}`) });
    button.dataset.action = action;
    button.addEventListener("click", () => act(action, member).catch((error) => noted(reason(error))));
    return button;
  }));
  members.opener = document.activeElement;
  $("member").showModal();
}

/** Saves the roles and direct permissions chosen in the detail. */
async function saveGrant(event) {
  event.preventDefault();
  const form = $("member-grant");
  const member = members.shown;
  const data = new FormData(form);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("PUT", `${accountPath()}/members/${member.user_id}/roles`, { roles: data.getAll("roles"), permissions: data.getAll("permissions") });
  } catch (error) {
    return refusedIn(form, $("member-msg"), error);
  } finally {
    button.disabled = false;
  }
  await reopenList(member, t("done.grant", { name: personName(member) }));
}

screens.members = async () => {
  $("invite-open").hidden = !may("users:write");
  const select = $("role");
  const kept = select.value;
  select.replaceChildren(new Option(t("role.any"), ""), ...state.roles.items.map((role) => new Option(role.title, role.name)));
  select.value = state.roles.items.some((role) => role.name === kept) ? kept : "";
  select.parentElement.hidden = state.roles.items.length === 0;
  const [me] = await Promise.all([api("GET", "/v1/me"), loadMembers(true)]);
  members.me = me.user_id;
};
$("filters").addEventListener("submit", guarded(async (event) => {
  event.preventDefault();
  await loadMembers(true);
}));
$("more").addEventListener("click", guarded(() => loadMembers(false)));
$("members-retry").addEventListener("click", guarded(() => loadMembers(true)));
$("member-close").addEventListener("click", () => {
  say("");
  $("member").close();
});
$("member").addEventListener("cancel", () => say(""));
$("member").addEventListener("close", () => members.opener && members.opener.isConnected && members.opener.focus());
$("member-grant").addEventListener("submit", guarded(saveGrant));
