// Audit log: the account's events, newest first, filtered by action, actor and dates as
// …/audit-events takes them (openapi.yaml; it needs users:read), each action in words; the same
// filters download as one CSV file from …/audit-events/export, its pages joined.

words({
  en: {
    "audit.list": "List of events", "audit.about": "What was done in this account, by whom and when, newest first.", "audit.filters": "Filter the audit log",
    "audit.denied": "Your roles do not include reading the audit log. Ask the owner if you need to.",
    "audit.action": "What", "audit.action.any": "Anything", "audit.actor": "Who", "audit.actor.any": "Anyone",
    "audit.from": "From", "audit.to": "Until (inclusive)", "audit.filter": "Show",
    "audit.empty": "Nothing was done that matches.", "audit.export": "Download as CSV",
    "audit.exported": "The audit log was downloaded ({n} events).",
    "audit.col.at": "When", "audit.col.actor": "Who", "audit.col.action": "What", "audit.col.target": "About",
    "audit.system": "Teamgate (automatic)",
    "audit.target.account": "Account", "audit.target.invitation": "Invitation", "audit.target.member": "Member",
    "audit.target.api_key": "API key", "audit.target.role": "Role",
    "account.created": "Account created", "account.settings_changed": "Settings changed",
    "account.ownership_transferred": "Ownership transferred", "account.owner_recovery_started": "Owner recovery started",
    "account.seat_limit_changed": "Seat limit changed", "invitation.created": "Invitation sent",
    "invitation.resent": "Invitation sent again", "invitation.revoked": "Invitation revoked",
    "invitation.accepted": "Invitation accepted", "invitation.expired": "Invitation expired",
    "invitation.bounced": "Invitation mail bounced", "invitation.complained": "Invitation mail marked as spam",
    "invitation.renewal_requested": "New link requested", "member.roles_changed": "Roles changed",
    "member.blocked": "Member blocked", "member.unblocked": "Member unblocked", "member.deleted": "Member deleted",
    "member.sessions_ended": "Member's sessions ended", "member.mfa_reset": "Two-step verification reset",
    "role.created": "Role created", "role.changed": "Role changed", "role.deleted": "Role deleted",
    "api_key.created": "API key created", "api_key.rotated": "API key rotated", "api_key.revoked": "API key revoked",
  },
  uk: {
    "audit.list": "Список подій", "audit.about": "Що робили в цьому кабінеті, хто й коли, від найновішого.", "audit.filters": "Фільтри журналу дій",
    "audit.denied": "Ваші ролі не дають читати журнал дій. Якщо це потрібно, зверніться до власника.",
    "audit.action": "Що", "audit.action.any": "Будь-що", "audit.actor": "Хто", "audit.actor.any": "Будь-хто",
    "audit.from": "Від", "audit.to": "До (включно)", "audit.filter": "Показати",
    "audit.empty": "Нічого такого не робили.", "audit.export": "Завантажити CSV",
    "audit.exported": "Журнал дій завантажено (подій: {n}).",
    "audit.col.at": "Коли", "audit.col.actor": "Хто", "audit.col.action": "Що", "audit.col.target": "Щодо",
    "audit.system": "Teamgate (автоматично)",
    "audit.target.account": "Кабінет", "audit.target.invitation": "Запрошення", "audit.target.member": "Користувач",
    "audit.target.api_key": "Ключ API", "audit.target.role": "Роль",
    "account.created": "Кабінет створено", "account.settings_changed": "Налаштування змінено",
    "account.ownership_transferred": "Власника змінено", "account.owner_recovery_started": "Почато відновлення власника",
    "account.seat_limit_changed": "Ліміт місць змінено", "invitation.created": "Запрошення надіслано",
    "invitation.resent": "Запрошення надіслано ще раз", "invitation.revoked": "Запрошення відкликано",
    "invitation.accepted": "Запрошення прийнято", "invitation.expired": "Термін запрошення минув",
    "invitation.bounced": "Лист із запрошенням не доставлено", "invitation.complained": "Лист із запрошенням позначено як спам",
    "invitation.renewal_requested": "Попросили нове посилання", "member.roles_changed": "Ролі змінено",
    "member.blocked": "Користувача заблоковано", "member.unblocked": "Користувача розблоковано",
    "member.deleted": "Користувача видалено", "member.sessions_ended": "Сеанси користувача завершено",
    "member.mfa_reset": "Двоетапну перевірку скинуто",
    "role.created": "Роль створено", "role.changed": "Роль змінено", "role.deleted": "Роль видалено",
    "api_key.created": "Ключ API створено", "api_key.rotated": "Ключ API замінено", "api_key.revoked": "Ключ API відкликано",
  },
  pl: {
    "audit.list": "Lista zdarzeń", "audit.about": "Co zrobiono na tym koncie, kto i kiedy, od najnowszych.", "audit.filters": "Filtry dziennika zdarzeń",
    "audit.denied": "Twoje role nie pozwalają czytać dziennika zdarzeń. Jeśli tego potrzebujesz, zapytaj właściciela.",
    "audit.action": "Co", "audit.action.any": "Cokolwiek", "audit.actor": "Kto", "audit.actor.any": "Ktokolwiek",
    "audit.from": "Od", "audit.to": "Do (włącznie)", "audit.filter": "Pokaż",
    "audit.empty": "Nic takiego nie zrobiono.", "audit.export": "Pobierz CSV",
    "audit.exported": "Pobrano dziennik zdarzeń (zdarzeń: {n}).",
    "audit.col.at": "Kiedy", "audit.col.actor": "Kto", "audit.col.action": "Co", "audit.col.target": "Czego dotyczy",
    "audit.system": "Teamgate (automatycznie)",
    "audit.target.account": "Konto", "audit.target.invitation": "Zaproszenie", "audit.target.member": "Użytkownik",
    "audit.target.api_key": "Klucz API", "audit.target.role": "Rola",
    "account.created": "Utworzono konto", "account.settings_changed": "Zmieniono ustawienia",
    "account.ownership_transferred": "Przekazano własność", "account.owner_recovery_started": "Rozpoczęto odzyskiwanie właściciela",
    "account.seat_limit_changed": "Zmieniono limit miejsc", "invitation.created": "Wysłano zaproszenie",
    "invitation.resent": "Ponownie wysłano zaproszenie", "invitation.revoked": "Cofnięto zaproszenie",
    "invitation.accepted": "Przyjęto zaproszenie", "invitation.expired": "Zaproszenie wygasło",
    "invitation.bounced": "Wiadomość z zaproszeniem nie dotarła", "invitation.complained": "Wiadomość z zaproszeniem oznaczono jako spam",
    "invitation.renewal_requested": "Poproszono o nowy link", "member.roles_changed": "Zmieniono role",
    "member.blocked": "Zablokowano użytkownika", "member.unblocked": "Odblokowano użytkownika",
    "member.deleted": "Usunięto użytkownika", "member.sessions_ended": "Zakończono sesje użytkownika",
    "member.mfa_reset": "Zresetowano weryfikację dwuetapową",
    "role.created": "Utworzono rolę", "role.changed": "Zmieniono rolę", "role.deleted": "Usunięto rolę",
    "api_key.created": "Utworzono klucz API", "api_key.rotated": "Wymieniono klucz API", "api_key.revoked": "Cofnięto klucz API",
  },
});

/** Every action the log records (openapi.yaml, AuditEvent's `action`), in the order offered. */
const AUDIT_ACTIONS = [
  "invitation.created", "invitation.resent", "invitation.revoked", "invitation.accepted", "invitation.expired",
  "invitation.bounced", "invitation.complained", "invitation.renewal_requested", "member.roles_changed",
  "member.blocked", "member.unblocked", "member.deleted", "member.sessions_ended", "member.mfa_reset",
  "role.created", "role.changed", "role.deleted", "account.created", "account.settings_changed",
  "account.ownership_transferred", "account.owner_recovery_started", "account.seat_limit_changed",
  "api_key.created", "api_key.rotated", "api_key.revoked",
];

/** The filters as the API takes them; a day's end is the next day's start (`to` is exclusive). */
function auditQuery() {
  const query = new URLSearchParams();
  if ($("audit-action").value) query.set("action", $("audit-action").value);
  if ($("audit-actor").value) query.set("actor_id", $("audit-actor").value);
  if ($("audit-from").value) query.set("from", new Date(`${$("audit-from").value}T00:00`).toISOString());
  if ($("audit-to").value) {
    const end = new Date(`${$("audit-to").value}T00:00`);
    end.setDate(end.getDate() + 1);
    query.set("to", end.toISOString());
  }
  return query;
}

/** What an event is about: the kind of record and, where the event or the account names it, which. */
function auditTarget(event) {
  const named = {
    account: () => state.account.name,
    member: () => personCalled(event.target_id),
    role: () => roleTitle(event.target_id),
    invitation: () => event.details.email,
    api_key: () => event.details.name,
  }[event.target_type];
  const name = named && named();
  const kind = t(`audit.target.${event.target_type}`);
  return name ? `${kind}: ${name}` : kind;
}

function auditRow(event) {
  const actor = event.actor_id === null ? t("audit.system") : personCalled(event.actor_id);
  return el("tr", {}, ...[when(event.at), actor, t(event.action), auditTarget(event)].map((text) => el("td", { textContent: text })));
}

const auditList = pagedList("audit", async (cursor) => {
  const query = auditQuery();
  query.set("limit", "25");
  if (cursor) query.set("cursor", cursor);
  const page = await api("GET", `/v1/accounts/${state.accountId}/audit-events?${query}`);
  const members = page.items.filter((event) => event.target_type === "member").map((event) => event.target_id);
  await knowPeople(page.items.map((event) => event.actor_id).concat(members));
  return page;
}, auditRow);

/** One file of the export (the access token refreshed once if it expired): its text and next page. */
async function auditFile(url) {
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${state.access}` } });
    if (response.status === 401 && attempt === 0 && (await refresh())) continue;
    if (!response.ok) {
      const refused = new Refused(response.status, await response.json().catch(() => null));
      refused.retryAfter = response.headers.get("Retry-After");
      throw refused;
    }
    const next = /<([^>]*)>;\s*rel="next"/.exec(response.headers.get("Link") || "");
    return { text: await response.text(), next: next && new URL(next[1], url).href };
  }
}

/** Downloads the filtered log as one CSV file: each page's rows after the first page's header. */
async function exportAudit() {
  const button = $("audit-export");
  button.disabled = true;
  try {
    const query = auditQuery();
    query.set("format", "csv");
    let url = new URL(`/v1/accounts/${state.accountId}/audit-events/export?${query}`, location.href).href;
    const parts = [];
    while (url) {
      const file = await auditFile(url);
      parts.push(parts.length ? file.text.replace(/^\uFEFF?[^\r\n]*\r\n/, "") : file.text);
      url = file.next;
    }
    const link = el("a", { href: URL.createObjectURL(new Blob(parts, { type: "text/csv" })), download: "audit-events.csv" });
    link.click();
    // The download reads the file after this click returns: the address is let go a little later.
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    const events = parts.join("").split("\r\n").filter((line) => line.startsWith('"')).length - 1;
    say(t("audit.exported", { n: events }), "ok");
  } finally {
    button.disabled = false;
  }
}

screens.audit = () => busyWhile("audit", async () => {
  const allowed = may("users:read");
  $("audit-denied").hidden = allowed;
  $("audit-view").hidden = !allowed;
  $("audit-export").hidden = !allowed;
  if (!allowed) return;
  const action = $("audit-action");
  const chosen = action.value;
  action.replaceChildren(new Option(t("audit.action.any"), ""), ...AUDIT_ACTIONS.map((name) => new Option(t(name), name)));
  action.value = chosen;
  const actor = $("audit-actor");
  const who = actor.value;
  const people = await api("GET", `/v1/accounts/${state.accountId}/members?limit=100`).catch(() => ({ items: [] }));
  for (const member of people.items) peopleSeen.set(`${state.accountId}/${member.user_id}`, personName(member));
  actor.replaceChildren(new Option(t("audit.actor.any"), ""), ...people.items.map((m) => new Option(personName(m), m.user_id)));
  actor.value = people.items.some((m) => m.user_id === who) ? who : "";
  await auditList.load(true);
});
$("audit-filters").addEventListener("submit", guarded(async (event) => {
  event.preventDefault();
  await auditList.load(true);
}));
$("audit-export").addEventListener("click", guarded(exportAudit));
