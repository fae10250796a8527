// Invitations: the account's history of invitations (Ozon's tab), with status, role and mail
// delivery filters, email search and paging; a waiting one revoked or sent again, an expired or
// revoked one sent again as a new invitation (openapi.yaml, …/invitations/{id}/resend), each
// only where the caller may. Who invited is named from the account's members (peopleSeen,
// audit.js's too).

words({
  en: {
    "inv.list": "List of invitations", "inv.about": "Everyone invited to this account, newest first.", "inv.filters": "Filter invitations",
    "inv.denied": "Your roles do not include seeing the account's invitations. Ask the owner if you need to.",
    "inv.search": "Search by email", "inv.status": "Status", "inv.role": "Role", "inv.role.any": "Any role",
    "inv.filter": "Show", "inv.empty": "No invitation matches.",
    "inv.delivery": "Mail", "inv.delivery.any": "Any", "inv.delivery.pending": "Waiting to be sent",
    "inv.delivery.failed": "Not sent", "inv.delivery.sent": "Sent", "inv.delivery.delivered": "Delivered",
    "inv.delivery.bounced": "Bounced", "inv.delivery.complained": "Marked as spam",
    "inv.status.any": "Any status", "inv.status.sent": "Waiting", "inv.status.accepted": "Accepted",
    "inv.status.expired": "Expired", "inv.status.revoked": "Revoked",
    "inv.col.email": "Email", "inv.col.roles": "Roles and permissions", "inv.col.status": "Status",
    "inv.col.by": "Invited by", "inv.col.sent": "Sent", "inv.col.expires": "Link works until",
    "inv.col.actions": "Actions", "inv.by_operator": "The marketplace", "inv.someone": "A former member",
    "inv.sends": "sent {n} times", "inv.renewal": "Asked for a new link", "inv.bounced": "The mail bounced",
    "inv.refused": "The address refused our mail",
    "inv.resend": "Resend", "inv.revoke": "Revoke", "inv.resend_to": "Resend the invitation to {email}",
    "inv.revoke_to": "Revoke the invitation to {email}",
    "inv.ask_revoke": "Revoke the invitation to {email}?",
    "inv.ask_revoke_text": "The link stops working at once and the seat is freed. You can invite them again later.",
    "inv.ask_refused": "Send to {email} anyway?",
    "inv.ask_refused_text": "Mail to this address bounced or was marked as spam. Send only if you know it works now.",
    "inv.send_anyway": "Send anyway",
    "inv.revoked": "The invitation to {email} was revoked.", "inv.resent": "A new link was mailed to {email}.",
    "inv.wait": "Wait {s} s",
  },
  uk: {
    "inv.list": "Список запрошень", "inv.about": "Усі, кого запрошено до цього кабінету, від найновіших.", "inv.filters": "Фільтри запрошень",
    "inv.denied": "Ваші ролі не дають бачити запрошення кабінету. Якщо це потрібно, зверніться до власника.",
    "inv.search": "Пошук за поштою", "inv.status": "Статус", "inv.role": "Роль", "inv.role.any": "Будь-яка роль",
    "inv.filter": "Показати", "inv.empty": "Жодне запрошення не знайдено.",
    "inv.delivery": "Лист", "inv.delivery.any": "Будь-який", "inv.delivery.pending": "Чекає надсилання",
    "inv.delivery.failed": "Не надіслано", "inv.delivery.sent": "Надіслано", "inv.delivery.delivered": "Доставлено",
    "inv.delivery.bounced": "Не доставлено", "inv.delivery.complained": "Позначено як спам",
    "inv.status.any": "Будь-який статус", "inv.status.sent": "Очікує", "inv.status.accepted": "Прийняте",
    "inv.status.expired": "Термін минув", "inv.status.revoked": "Відкликане",
    "inv.col.email": "Електронна пошта", "inv.col.roles": "Ролі та дозволи", "inv.col.status": "Статус",
    "inv.col.by": "Хто запросив", "inv.col.sent": "Надіслано", "inv.col.expires": "Посилання діє до",
    "inv.col.actions": "Дії", "inv.by_operator": "Маркетплейс", "inv.someone": "Колишній користувач",
    "inv.sends": "надіслано {n} раз(и)", "inv.renewal": "Просить нове посилання", "inv.bounced": "Лист не доставлено",
    "inv.refused": "Адреса відмовилася від наших листів",
    "inv.resend": "Надіслати ще раз", "inv.revoke": "Відкликати",
    "inv.resend_to": "Надіслати запрошення ще раз: {email}", "inv.revoke_to": "Відкликати запрошення: {email}",
    "inv.ask_revoke": "Відкликати запрошення для {email}?",
    "inv.ask_revoke_text": "Посилання одразу перестане працювати, а місце звільниться. Запросити знову можна пізніше.",
    "inv.ask_refused": "Усе одно надіслати на {email}?",
    "inv.ask_refused_text": "Лист на цю адресу не дійшов або його позначили як спам. Надсилайте, лише якщо знаєте, що адреса вже працює.",
    "inv.send_anyway": "Усе одно надіслати",
    "inv.revoked": "Запрошення для {email} відкликано.", "inv.resent": "Нове посилання надіслано на {email}.",
    "inv.wait": "Зачекайте {s} с",
  },
  pl: {
    "inv.list": "Lista zaproszeń", "inv.about": "Wszyscy zaproszeni do tego konta, od najnowszych.", "inv.filters": "Filtry zaproszeń",
    "inv.denied": "Twoje role nie pozwalają widzieć zaproszeń konta. Jeśli tego potrzebujesz, zapytaj właściciela.",
    "inv.search": "Szukaj po e-mailu", "inv.status": "Status", "inv.role": "Rola", "inv.role.any": "Dowolna rola",
    "inv.filter": "Pokaż", "inv.empty": "Żadne zaproszenie nie pasuje.",
    "inv.delivery": "Wiadomość", "inv.delivery.any": "Dowolna", "inv.delivery.pending": "Czeka na wysłanie",
    "inv.delivery.failed": "Niewysłana", "inv.delivery.sent": "Wysłana", "inv.delivery.delivered": "Dostarczona",
    "inv.delivery.bounced": "Odbita", "inv.delivery.complained": "Oznaczona jako spam",
    "inv.status.any": "Dowolny status", "inv.status.sent": "Oczekuje", "inv.status.accepted": "Przyjęte",
    "inv.status.expired": "Wygasło", "inv.status.revoked": "Cofnięte",
    "inv.col.email": "E-mail", "inv.col.roles": "Role i uprawnienia", "inv.col.status": "Status",
    "inv.col.by": "Zaprosił(a)", "inv.col.sent": "Wysłano", "inv.col.expires": "Link działa do",
    "inv.col.actions": "Działania", "inv.by_operator": "Marketplace", "inv.someone": "Były użytkownik",
    "inv.sends": "wysłano {n} raz(y)", "inv.renewal": "Prosi o nowy link", "inv.bounced": "Wiadomość nie dotarła",
    "inv.refused": "Adres odrzucił naszą pocztę",
    "inv.resend": "Wyślij ponownie", "inv.revoke": "Cofnij",
    "inv.resend_to": "Wyślij ponownie zaproszenie: {email}", "inv.revoke_to": "Cofnij zaproszenie: {email}",
    "inv.ask_revoke": "Cofnąć zaproszenie dla {email}?",
    "inv.ask_revoke_text": "Link od razu przestanie działać, a miejsce się zwolni. Można zaprosić ponownie później.",
    "inv.ask_refused": "Wysłać mimo to na {email}?",
    "inv.ask_refused_text": "Poczta na ten adres wróciła lub została oznaczona jako spam. Wysyłaj tylko, jeśli wiesz, że adres już działa.",
    "inv.send_anyway": "Wyślij mimo to",
    "inv.revoked": "Zaproszenie dla {email} zostało cofnięte.", "inv.resent": "Nowy link wysłano na {email}.",
    "inv.wait": "Poczekaj {s} s",
  },
});

/** The people of the chosen account by user id, as `account/id` → the name the list shows. */
const peopleSeen = new Map();

/** Reads, once each, the members named by `ids` that are not known yet (a deleted one stays unnamed). */
async function knowPeople(ids) {
  const unknown = [...new Set(ids)].filter((id) => id && !peopleSeen.has(`${state.accountId}/${id}`));
  await Promise.all(unknown.map(async (id) => {
    try {
      peopleSeen.set(`${state.accountId}/${id}`, personName(await api("GET", `/v1/accounts/${state.accountId}/members/${id}`)));
    } catch (error) {
      if (error instanceof Refused && error.status === 404) peopleSeen.set(`${state.accountId}/${id}`, t("inv.someone"));
    }
  }));
}

/** The name of the person `id` (known through `knowPeople`). */
const personCalled = (id) => peopleSeen.get(`${state.accountId}/${id}`) || t("inv.someone");

/** Marks the screen `name` busy while `work` runs (aria-busy: assistive technology waits for it). */
async function busyWhile(name, work) {
  const section = $(`screen-${name}`);
  section.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    section.setAttribute("aria-busy", "false");
  }
}

/** Names each cell of `table` by its column's heading (data-label), which narrow screens show beside it. */
function labelCells(table) {
  const headings = [...table.tHead.rows[0].cells].map((th) => th.textContent);
  for (const row of table.tBodies[0].rows) [...row.cells].forEach((td, i) => (td.dataset.label = headings[i]));
}

/**
 * A list screen's loading, empty and failed states around its table (`prefix`-loading, -empty,
 * -failed, -table, -more; the screen busy meanwhile), and its paging: `read(cursor)` answers one
 * page, `row(item)` makes an item's row.
 */
function pagedList(prefix, read, row) {
  const list = { cursor: null };
  const body = $(`${prefix}-table`).tBodies[0];
  const screen = $(`${prefix}-table`).closest("[data-screen]").dataset.screen;
  list.load = (fresh) => busyWhile(screen, async () => {
    if (fresh) {
      list.cursor = null;
      body.replaceChildren();
    }
    $(`${prefix}-loading`).hidden = false;
    $(`${prefix}-failed`).hidden = true;
    $(`${prefix}-more`).disabled = true;
    try {
      const page = await read(list.cursor);
      body.append(...page.items.map(row));
      labelCells($(`${prefix}-table`));
      list.cursor = page.next_cursor;
    } catch (error) {
      $(`${prefix}-failed-text`).textContent = reason(error);
      $(`${prefix}-failed`).hidden = false;
    } finally {
      $(`${prefix}-loading`).hidden = true;
      $(`${prefix}-table`).hidden = body.rows.length === 0;
      $(`${prefix}-empty`).hidden = body.rows.length !== 0 || !$(`${prefix}-failed`).hidden;
      $(`${prefix}-more`).hidden = !list.cursor;
      $(`${prefix}-more`).disabled = false;
    }
  });
  $(`${prefix}-retry`).addEventListener("click", guarded(() => list.load(body.rows.length === 0)));
  $(`${prefix}-more`).addEventListener("click", guarded(() => list.load(false)));
  return list;
}

/** What may be done to an invitation: revoke a waiting one, send any but an accepted one again. */
function invitationActions(invitation) {
  if (!may("users:write") || invitation.invited_by === null) return [];
  const actions = invitation.status === "accepted" ? [] : ["resend"];
  return invitation.status === "sent" ? ["revoke", ...actions] : actions;
}

function invitationRow(invitation) {
  const notes = [
    invitation.send_count > 1 && t("inv.sends", { n: invitation.send_count }),
    invitation.renewal_requested_at && t("inv.renewal"),
    invitation.address_refused ? t("inv.refused") : invitation.delivery === "bounced" && t("inv.bounced"),
  ].filter(Boolean);
  const granted = invitation.invited_by === null
    ? state.roles.owner_title
    : invitation.roles.map(roleTitle).concat(invitation.permissions).join(", ");
  const status = el("span", { className: `badge is-${invitation.status}`, textContent: t(`inv.status.${invitation.status}`) });
  const by = invitation.invited_by === null ? t("inv.by_operator") : personCalled(invitation.invited_by);
  const actions = el("td", { className: "row-actions" }, ...invitationActions(invitation).map((action) =>
    el("button", {
      type: "button", className: action === "revoke" ? "sec danger-text" : "sec", textContent: t(`inv.${action}`),
      ariaLabel: t(`inv.${action}_to`, { email: invitation.email }),
      onclick: guarded((event) => (action === "revoke" ? revokeInvitation : resendInvitation)(invitation, event.currentTarget)),
    })));
  const lapses = ["sent", "expired"].includes(invitation.status) ? when(invitation.expires_at) : "—";
  return el("tr", {},
    el("td", {}, invitation.email, ...notes.map((note) => el("small", { textContent: note }))),
    el("td", { textContent: granted }), el("td", {}, status), el("td", { textContent: by }),
    el("td", { textContent: when(invitation.last_sent_at) }), el("td", { textContent: lapses }),
    actions);
}

const invitationsList = pagedList("inv", async (cursor) => {
  const query = new URLSearchParams({ limit: "20" });
  for (const name of ["email", "status", "role", "delivery"]) if ($(`inv-${name}`).value.trim()) query.set(name, $(`inv-${name}`).value.trim());
  if (cursor) query.set("cursor", cursor);
  const page = await api("GET", `/v1/accounts/${state.accountId}/invitations?${query}`);
  await knowPeople(page.items.map((invitation) => invitation.invited_by));
  return page;
}, invitationRow);

/** Revokes a waiting invitation once confirmed, and reads the list again. */
async function revokeInvitation(invitation, button) {
  const { email } = invitation;
  if (!(await confirmed(t("inv.ask_revoke", { email }), t("inv.ask_revoke_text"), t("inv.revoke")))) return button.focus();
  await api("POST", `/v1/accounts/${state.accountId}/invitations/${invitation.id}/revoke`);
  await invitationsList.load(true);
  say(t("inv.revoked", { email }), "ok");
  $("msg").focus();
}

/**
 * Sends an invitation again (once per click, whatever the retries: one idempotency key); an
 * address that refused mail is mailed only when the caller confirms it. A limit's wait shows on
 * the button until it is over.
 */
async function resendInvitation(invitation, button, deliberately = false) {
  const { email } = invitation;
  try {
    await api("POST", `/v1/accounts/${state.accountId}/invitations/${invitation.id}/resend`,
      deliberately ? { deliberately } : undefined, { headers: { "Idempotency-Key": crypto.randomUUID() } });
  } catch (error) {
    if (error instanceof Refused && error.problem.code === "address_refused" && !deliberately) {
      if (await confirmed(t("inv.ask_refused", { email }), t("inv.ask_refused_text"), t("inv.send_anyway"))) {
        return resendInvitation(invitation, button, true);
      }
      return button.focus();
    }
    if (error instanceof Refused && error.status === 429) holdFor(button, Number(error.retryAfter) || 60);
    throw error;
  }
  await invitationsList.load(true);
  say(t("inv.resent", { email }), "ok");
  $("msg").focus();
}

/** Keeps `button` off for `seconds`, saying how long on it, then gives it back. */
function holdFor(button, seconds) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = t("inv.wait", { s: seconds });
  setTimeout(() => {
    button.disabled = false;
    button.textContent = label;
  }, seconds * 1000);
}

screens.invitations = () => busyWhile("invitations", async () => {
  const allowed = may("users:read");
  $("inv-denied").hidden = allowed;
  $("inv-view").hidden = !allowed;
  if (!allowed) return;
  const role = $("inv-role");
  const chosen = role.value;
  role.replaceChildren(new Option(t("inv.role.any"), ""), ...state.roles.items.map((r) => new Option(r.title, r.name)));
  role.value = state.roles.items.some((r) => r.name === chosen) ? chosen : "";
  await invitationsList.load(true);
});
$("inv-filters").addEventListener("submit", guarded(async (event) => {
  event.preventDefault();
  await invitationsList.load(true);
}));
