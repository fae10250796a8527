// Roles: what each of the account's roles gives, and the account's own roles named, changed and
// deleted (moving their holders to another role) where the preset allows them.

words({
  en: {
    "nav.roles": "Roles", "roles.new": "New role", "roles.edit": "Change", "roles.delete": "Delete",
    "roles.intro": "What each role lets its holders do. The marketplace's roles are fixed; the account's own can be changed by whoever holds everything they give.",
    "roles.own_off": "This marketplace grants permissions one by one or by its own roles: an account names no roles of its own.",
    "roles.custom": "The account's own", "roles.preset": "The marketplace's", "roles.gives": "Gives: {list}",
    "roles.name": "Name", "roles.title": "Title", "roles.description": "Description (optional)",
    "roles.name_hint": "What grants use; it never changes: 2 to 40 of a–z, 0–9 and _, starting with a letter.",
    "roles.save": "Save role", "roles.new_title": "A role of the account's own", "roles.edit_title": "Change {title}",
    "roles.created": "{title} can now be granted.", "roles.changed": "{title} is changed; its holders have its new permissions.",
    "roles.deleted": "{title} is deleted.", "roles.confirm_title": "Delete {title}?",
    "roles.confirm_text": "Nobody will be able to hold this role again.", "roles.move_title": "Someone holds this role",
    "roles.move_text": "People holding it: {count}. Choose the role they get instead.", "roles.replacement": "Give them instead",
    "roles.move_delete": "Move them and delete", "roles.pick": "Choose at least one permission.",
  },
  uk: {
    "nav.roles": "Ролі", "roles.new": "Нова роль", "roles.edit": "Змінити", "roles.delete": "Видалити",
    "roles.intro": "Що кожна роль дозволяє своїм власникам. Ролі маркетплейсу незмінні; власні ролі кабінету може змінити той, хто має все, що вони дають.",
    "roles.own_off": "Цей маркетплейс надає дозволи окремо або своїми ролями: кабінет не створює власних ролей.",
    "roles.custom": "Власна роль кабінету", "roles.preset": "Роль маркетплейсу", "roles.gives": "Дає: {list}",
    "roles.name": "Назва", "roles.title": "Заголовок", "roles.description": "Опис (необов'язково)",
    "roles.name_hint": "Її використовують у наданні доступу, і вона не змінюється: від 2 до 40 символів a–z, 0–9 та _, на початку літера.",
    "roles.save": "Зберегти роль", "roles.new_title": "Власна роль кабінету", "roles.edit_title": "Змінити «{title}»",
    "roles.created": "Роль «{title}» тепер можна надавати.", "roles.changed": "Роль «{title}» змінено; її власники мають нові дозволи.",
    "roles.deleted": "Роль «{title}» видалено.", "roles.confirm_title": "Видалити «{title}»?",
    "roles.confirm_text": "Цю роль більше ніхто не зможе мати.", "roles.move_title": "Цю роль хтось має",
    "roles.move_text": "Її мають: {count}. Виберіть роль, яку вони отримають натомість.", "roles.replacement": "Надати натомість",
    "roles.move_delete": "Перенести й видалити", "roles.pick": "Виберіть хоча б один дозвіл.",
  },
  pl: {
    "nav.roles": "Role", "roles.new": "Nowa rola", "roles.edit": "Zmień", "roles.delete": "Usuń",
    "roles.intro": "Na co każda rola pozwala jej posiadaczom. Role marketplace'u są stałe; własne role konta może zmienić ten, kto ma wszystko, co dają.",
    "roles.own_off": "Ten marketplace nadaje uprawnienia pojedynczo lub własnymi rolami: konto nie tworzy własnych ról.",
    "roles.custom": "Własna rola konta", "roles.preset": "Rola marketplace'u", "roles.gives": "Daje: {list}",
    "roles.name": "Nazwa", "roles.title": "Tytuł", "roles.description": "Opis (opcjonalnie)",
    "roles.name_hint": "Używana przy nadawaniu i nigdy się nie zmienia: od 2 do 40 znaków a–z, 0–9 i _, zaczynając od litery.",
    "roles.save": "Zapisz rolę", "roles.new_title": "Własna rola konta", "roles.edit_title": "Zmień „{title}”",
    "roles.created": "Rolę „{title}” można już nadawać.", "roles.changed": "Rola „{title}” zmieniona; jej posiadacze mają nowe uprawnienia.",
    "roles.deleted": "Rola „{title}” usunięta.", "roles.confirm_title": "Usunąć „{title}”?",
    "roles.confirm_text": "Nikt nie będzie mógł już mieć tej roli.", "roles.move_title": "Ktoś ma tę rolę",
    "roles.move_text": "Osoby z tą rolą: {count}. Wybierz rolę, którą dostaną w zamian.", "roles.replacement": "Nadaj w zamian",
    "roles.move_delete": "Przenieś i usuń", "roles.pick": "Wybierz co najmniej jedno uprawnienie.",
  },
});

/** The role the dialog changes (null while it names a new one). */
const roleForm = { editing: null };

/** Whether the caller may name roles of the account's own. */
const namesRoles = () => state.roles.custom_roles_allowed && may("users:write");

/** Reads the roles again (a change shows in every screen's titles and choices). */
async function rereadRoles() {
  state.roles = await api("GET", `/v1/accounts/${state.accountId}/roles`);
}

function roleItem(role) {
  const gives = permissionLevels(role.permissions);
  const item = el("li", { className: "role" },
    el("h2", { textContent: role.title }),
    el("p", { className: "kind", textContent: t(role.custom ? "roles.custom" : "roles.preset") }),
    role.description ? el("p", { textContent: role.description }) : null,
    el("p", { className: "hint", textContent: t("roles.gives", { list: gives.join(", ") }) }));
  if (role.custom && namesRoles() && role.assignable_by_me) {
    const edit = el("button", { type: "button", className: "sec", textContent: t("roles.edit") });
    const remove = el("button", { type: "button", className: "sec", textContent: t("roles.delete") });
    edit.setAttribute("aria-label", `${t("roles.edit")}: ${role.title}`);
    remove.setAttribute("aria-label", `${t("roles.delete")}: ${role.title}`);
    edit.addEventListener("click", () => openRole(role));
    remove.addEventListener("click", guarded(() => deleteRole(role)));
    item.append(el("div", { className: "actions" }, edit, remove));
  }
  return item;
}

function showRoles() {
  $("role-new").hidden = !namesRoles();
  $("roles-own-off").hidden = state.roles.custom_roles_allowed;
  $("roles-list").replaceChildren(...state.roles.items.map(roleItem));
}

/** Opens the dialog for a new role (`role` null) or to change one of the account's own. */
function openRole(role) {
  roleForm.editing = role;
  const form = $("role-form");
  form.reset();
  for (const input of form.querySelectorAll("[aria-invalid]")) showFieldError(input, null);
  $("role-note").hidden = true;
  $("role-h").textContent = role ? t("roles.edit_title", { title: role.title }) : t("roles.new_title");
  $("role-name-field").hidden = Boolean(role);
  $("role-title").value = role ? role.title : "";
  $("role-description").value = role ? role.description : "";
  $("role-grid").replaceChildren(permissionGrid("role", role ? role.permissions : []));
  $("role-dialog").showModal();
}

async function saveRole(event) {
  event.preventDefault();
  const form = $("role-form");
  const permissions = [...form.querySelectorAll("input[name=permissions]:checked")].map((input) => input.value);
  const content = { title: $("role-title").value.trim(), description: $("role-description").value.trim(), permissions };
  if (!permissions.length) {
    $("role-note").textContent = t("roles.pick");
    $("role-note").hidden = false;
    return $("role-note").focus();
  }
  const editing = roleForm.editing;
  try {
    const saved = editing
      ? await api("PUT", `/v1/accounts/${state.accountId}/roles/${editing.name}`, content)
      : await api("POST", `/v1/accounts/${state.accountId}/roles`, { name: $("role-name").value.trim(), ...content });
    $("role-dialog").close();
    await rereadRoles();
    showRoles();
    say(t(editing ? "roles.changed" : "roles.created", { title: saved.title }), "ok");
  } catch (error) {
    refusedIn(form, $("role-note"), error);
  }
}

/** Deletes a role of the account's own once confirmed; its holders, if any, move to a role chosen. */
async function deleteRole(role) {
  if (!(await confirmed(t("roles.confirm_title", { title: role.title }), t("roles.confirm_text"), t("roles.delete")))) return;
  const path = `/v1/accounts/${state.accountId}/roles/${role.name}`;
  try {
    await api("DELETE", path);
  } catch (error) {
    if (!(error instanceof Refused && error.problem.code === "role_in_use")) throw error;
    const moved = await chooseReplacement(role, Number.parseInt(error.problem.detail, 10));
    if (!moved) return;
    await api("DELETE", `${path}?${new URLSearchParams({ replacement: moved })}`);
  }
  await rereadRoles();
  showRoles();
  say(t("roles.deleted", { title: role.title }), "ok");
}

/**
 * Asks which role the `count` holders of a deleted role get (the server's `role_in_use` detail
 * starts with how many); the role's name, or null when cancelled.
 */
function chooseReplacement(role, count) {
  const dialog = $("role-move");
  $("role-move-text").textContent = t("roles.move_text", { count });
  const others = state.roles.items.filter((other) => other.name !== role.name && other.assignable_by_me);
  $("role-replacement").replaceChildren(...others.map((other) => new Option(other.title, other.name)));
  return new Promise((resolve) => {
    const done = (name) => {
      $("role-move-form").onsubmit = null;
      dialog.onclose = null;
      dialog.close();
      resolve(name);
    };
    $("role-move-form").onsubmit = (event) => {
      event.preventDefault();
      done($("role-replacement").value || null);
    };
    $("role-move-cancel").onclick = () => done(null);
    dialog.onclose = () => done(null);
    dialog.showModal();
  });
}

screens.roles = async () => {
  await rereadRoles();
  showRoles();
};
$("role-new").addEventListener("click", () => openRole(null));
$("role-cancel").addEventListener("click", () => $("role-dialog").close());
$("role-form").addEventListener("submit", guarded(saveRole));
