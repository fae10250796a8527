// Members: the account's people with search, status filter and paging.

words({
  en: {
    "team.title": "Members", "team.search": "Search by name or email", "team.status": "Status",
    "team.filter": "Show", "team.loading": "Loading…", "team.empty": "No one matches.", "team.more": "Show more",
    "status.any": "Any status", "status.active": "Active", "status.not_activated": "Not activated",
    "status.blocked": "Blocked", "col.person": "Person", "col.roles": "Roles", "col.status": "Status",
    "col.last": "Last sign-in",
  },
  uk: {
    "team.title": "Користувачі", "team.search": "Пошук за ім'ям або поштою", "team.status": "Статус",
    "team.filter": "Показати", "team.loading": "Завантаження…", "team.empty": "Нікого не знайдено.",
    "team.more": "Показати ще", "status.any": "Будь-який статус", "status.active": "Активний",
    "status.not_activated": "Не активований", "status.blocked": "Заблокований", "col.person": "Користувач",
    "col.roles": "Ролі", "col.status": "Статус", "col.last": "Останній вхід",
  },
  pl: {
    "team.title": "Użytkownicy", "team.search": "Szukaj po nazwisku lub e-mailu", "team.status": "Status",
    "team.filter": "Pokaż", "team.loading": "Wczytywanie…", "team.empty": "Nikt nie pasuje.",
    "team.more": "Pokaż więcej", "status.any": "Dowolny status", "status.active": "Aktywny",
    "status.not_activated": "Nieaktywowany", "status.blocked": "Zablokowany", "col.person": "Osoba",
    "col.roles": "Role", "col.status": "Status", "col.last": "Ostatnie logowanie",
  },
});

const members = { cursor: null };

/** A role's title in the account's language (its name when the account has no such role). */
const roleTitle = (name) => (state.roles.items.find((role) => role.name === name) || { title: name }).title;

function memberRow(member) {
  const name = [member.first_name, member.last_name].filter(Boolean).join(" ");
  const person = el("td", {}, name || member.email, name ? el("small", { textContent: member.email }) : null);
  const granted = member.is_owner ? [t("owner")] : member.roles.map(roleTitle).concat(member.permissions);
  const cells = [granted.join(", "), t(`status.${member.status}`), when(member.last_login_at)];
  return el("tr", {}, person, ...cells.map((text) => el("td", { textContent: text })));
}

async function loadMembers(fresh) {
  const body = $("members").tBodies[0];
  if (fresh) {
    members.cursor = null;
    body.replaceChildren();
  }
  const query = new URLSearchParams({ limit: "20" });
  for (const name of ["q", "status"]) if ($(name).value) query.set(name, $(name).value);
  if (members.cursor) query.set("cursor", members.cursor);
  $("loading").hidden = false;
  try {
    const page = await api("GET", `/v1/accounts/${state.accountId}/members?${query}`);
    body.append(...page.items.map(memberRow));
    members.cursor = page.next_cursor;
    $("members").hidden = body.rows.length === 0;
    $("empty").hidden = body.rows.length !== 0;
    $("more").hidden = !members.cursor;
  } finally {
    $("loading").hidden = true;
  }
}

screens.members = () => loadMembers(true);
$("filters").addEventListener("submit", guarded(async (event) => {
  event.preventDefault();
  await loadMembers(true);
}));
$("more").addEventListener("click", guarded(() => loadMembers(false)));
