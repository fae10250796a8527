// common.js: shared by the pages. pages.rs puts it inside each page's one script, where the page
// says so, in the page's own function scope: the page adds its strings with words() and calls
// these helpers directly. It expects the elements #h, #msg, #password, #password2, #pw-hint and
// #show.
const D = {
en: {
email: "Email", show: "Show password", wait: "Please wait…",
e_required: "Fill in this field.", e_mismatch: "The passwords don't match.",
e_fix_t: "Please check the form", e_fix: "Correct the highlighted fields and try again.",
password_too_short: "Use at least {min} characters.", too_short: "This password is too short.",
password_too_long: "Use at most {max} characters.", too_long: "This password is too long.",
password_too_common: "This password is too common or was found in a data breach. Choose another.",
password_invalid_characters: "Use only Latin letters, digits and symbols.",
rate_t: "Too many attempts", rate_n: "Please try again in {n} seconds.", rate: "Please wait a moment and try again.",
fail_t: "Something went wrong", fail: "Please try again in a moment.",
sign_in: "Sign in", sign_in_market: "To sign in, go back to the marketplace where you manage your shop.",
loading: "Checking your link…", retry: "Try again",
pw_hint: "{min} to {max} characters. A long phrase works well.", pw_latin: "Latin letters, digits and symbols only.",
support: "Contact the marketplace's seller support.", support_at: "Seller support:",
reread_t: "Open your link again", reread: "For your safety, this page forgets its link once it is reloaded. Open the link from your email again: a reload did not use it up."
},
uk: {
email: "Ел. пошта", show: "Показати пароль", wait: "Зачекайте…",
e_required: "Заповніть це поле.", e_mismatch: "Паролі не збігаються.",
e_fix_t: "Перевірте форму", e_fix: "Виправте позначені поля й спробуйте ще раз.",
password_too_short: "Щонайменше {min} символів.", too_short: "Пароль закороткий.",
password_too_long: "Не більше {max} символів.", too_long: "Пароль задовгий.",
password_too_common: "Цей пароль надто поширений або був у витоках даних. Оберіть інший.",
password_invalid_characters: "Використовуйте лише латинські літери, цифри та символи.",
rate_t: "Забагато спроб", rate_n: "Спробуйте ще раз через {n} с.", rate: "Зачекайте трохи й спробуйте ще раз.",
fail_t: "Щось пішло не так", fail: "Спробуйте ще раз за хвилину.",
sign_in: "Увійти", sign_in_market: "Щоб увійти, поверніться на маркетплейс, де ви керуєте своїм магазином.",
loading: "Перевіряємо посилання…", retry: "Спробувати ще раз",
pw_hint: "Від {min} до {max} символів. Добре підходить довга фраза.", pw_latin: "Лише латинські літери, цифри та символи.",
support: "Зверніться до служби підтримки продавців маркетплейсу.", support_at: "Підтримка продавців:",
reread_t: "Відкрийте посилання ще раз", reread: "Задля безпеки ця сторінка забуває посилання після перезавантаження. Відкрийте посилання з листа ще раз: перезавантаження його не використало."
},
pl: {
email: "E-mail", show: "Pokaż hasło", wait: "Proszę czekać…",
e_required: "Wypełnij to pole.", e_mismatch: "Hasła nie są takie same.",
e_fix_t: "Sprawdź formularz", e_fix: "Popraw zaznaczone pola i spróbuj ponownie.",
password_too_short: "Co najmniej {min} znaków.", too_short: "Hasło jest za krótkie.",
password_too_long: "Najwyżej {max} znaków.", too_long: "Hasło jest za długie.",
password_too_common: "To hasło jest zbyt popularne lub wyciekło w przeszłości. Wybierz inne.",
password_invalid_characters: "Używaj tylko liter łacińskich, cyfr i symboli.",
rate_t: "Zbyt wiele prób", rate_n: "Spróbuj ponownie za {n} s.", rate: "Odczekaj chwilę i spróbuj ponownie.",
fail_t: "Coś poszło nie tak", fail: "Spróbuj ponownie za chwilę.",
sign_in: "Zaloguj się", sign_in_market: "Aby się zalogować, wróć na platformę, na której prowadzisz swój sklep.",
loading: "Sprawdzamy link…", retry: "Spróbuj ponownie",
pw_hint: "Od {min} do {max} znaków. Dobrze sprawdza się długie zdanie.", pw_latin: "Tylko litery łacińskie, cyfry i symbole.",
support: "Skontaktuj się z obsługą sprzedawców platformy.", support_at: "Obsługa sprzedawców:",
reread_t: "Otwórz link ponownie", reread: "Dla bezpieczeństwa ta strona zapomina link po przeładowaniu. Otwórz ponownie link z wiadomości e-mail: przeładowanie go nie zużyło."
}
};
// Adds a page's own strings to the shared ones, language by language.
const words = (page) => { for (const l of Object.keys(page)) D[l] = Object.assign(D[l] || {}, page[l]); };
const $ = (id) => document.getElementById(id);
const el = (tag, props) => Object.assign(document.createElement(tag), props);
const pick = (l) => { const m = /^(uk|pl)(?![a-z])/.exec(String(l || "").toLowerCase()); return m ? m[1] : "en"; };
let lang = pick((navigator.languages || [])[0] || navigator.language);
const t = (k, v) => String(D[lang][k] ?? D.en[k] ?? k).replace(/\{(\w+)\}/g, (m, n) => (v && v[n] != null ? v[n] : m));
const msg = $("msg"), pw = $("password"), pw2 = $("password2");
let token = null, busy = false, coolUntil = 0;

function paint() {
 document.documentElement.lang = lang;
 document.querySelectorAll("[data-t]").forEach((e) => { e.textContent = t(e.dataset.t); });
 document.title = $("h").textContent;
}
// The one status region: a bold title, a sentence, and maybe a link or button.
function say(kind, title, text, extra, focus) {
 msg.className = kind ? "is-" + kind : "";
 msg.replaceChildren();
 if (title) msg.append(el("strong", { textContent: title }));
 if (text) msg.append(el("p", { textContent: text }));
 if (extra) msg.append(extra);
 if (focus) msg.focus();
}
// A secondary button for the status region ("Try again", "Send another link").
function secondary(text, fn) {
 const b = el("button", { type: "button", className: "sec", textContent: text });
 b.addEventListener("click", fn);
 return b;
}
// What this tab knows of its link, kept in sessionStorage so that a reload, after the token left
// the address bar, speaks the link's language and says what came of it: {read, lang} once the
// page read a link, {lang, done} once it was used. Never the link itself: a browser brings a
// closed tab's sessionStorage back when the tab is reopened, and on a shared computer the next
// person could use a live link found there. A new link in the address replaces it.
const KEPT = "teamgate" + location.pathname;
function kept() { try { return JSON.parse(sessionStorage.getItem(KEPT)) || {}; } catch (e) { return {}; } }
function keep(state) { try { sessionStorage.setItem(KEPT, JSON.stringify(state)); } catch (e) {} }
// Read the token from the fragment, then drop it from the address bar; it stays in this page's
// memory only, never in its history, a Referer or storage. Null without one in the address (a
// reload: `reread()` says so).
function takeToken() {
 let tok = null;
 for (const part of location.hash.slice(1).split("&")) {
  if (part.startsWith("token=")) { try { tok = decodeURIComponent(part.slice(6)); } catch (e) { tok = null; } }
 }
 if (location.hash) { try { history.replaceState(null, "", location.pathname + location.search); } catch (e) {} }
 if (tok) { keep({ read: true }); return tok; }
 const k = kept();
 if (k.lang) lang = pick(k.lang);
 return null;
}
// A reload of a page that had read its link: whether it did (then it says to open the link again,
// without blaming it).
function reread() {
 if (!kept().read) return false;
 paint();
 say("err", t("reread_t"), t("reread"), null, true);
 return true;
}
// The link's language, from the server (the invitation's or the account's): kept for a reload.
function speak(locale) {
 if (!locale) return;
 lang = pick(locale);
 keep(Object.assign(kept(), { lang }));
 paint();
}
// The link is spent (used, expired, refused): a reload shows `done` instead of asking again.
function spent(done) { keep({ lang, done }); }
// Where the deployment leads people on (pages.rs puts it in the head): the sign-in's address,
// or null when there is none to link to (the console turned off, no SIGN_IN_URL).
const meta = (name) => document.querySelector(`meta[name="teamgate-${name}"]`);
// A paragraph leading on to the sign-in: a link, or where to go instead.
function onward(text) {
 const p = el("p", { textContent: text ? text + " " : "" }), url = meta("sign-in");
 if (url) p.append(el("a", { href: url.content, className: "go", textContent: t("sign_in") }));
 else p.append(t("sign_in_market"));
 return p;
}
// Who to ask when only the marketplace can help: its support as the deployment names it (a link
// or a sentence), else a plain pointer to it.
function supportNote() {
 const m = meta("support"), p = el("p");
 if (!m) p.textContent = t("support");
 else if (m.dataset.kind === "link") {
  p.append(t("support_at") + " ", el("a", { href: m.content, textContent: m.content.replace(/^mailto:/, "") }));
 } else p.textContent = m.content;
 return p;
}
function retryAfter(h) {
 if (!h) return null;
 if (/^\s*\d+\s*$/.test(h)) return Math.max(1, parseInt(h, 10));
 const d = Date.parse(h);
 return isNaN(d) ? null : Math.max(1, Math.ceil((d - Date.now()) / 1000));
}
// POSTs JSON without cookies (with a bearer token when given); status 0 when the network failed,
// data the parsed (problem+)JSON.
async function post(url, body, bearer) {
 let r, data = null;
 const headers = { "Content-Type": "application/json" };
 if (bearer) headers.Authorization = "Bearer " + bearer;
 try {
  r = await fetch(url, { method: "POST", credentials: "omit", headers, body: JSON.stringify(body) });
 } catch (e) { return { status: 0 }; }
 try { const s = await r.text(); data = s ? JSON.parse(s) : null; } catch (e) {}
 return { status: r.status, data, retry: retryAfter(r.headers.get("Retry-After")) };
}
function rated(r, extra) {
 say("err", t("rate_t"), r.retry ? t("rate_n", { n: r.retry }) : t("rate"), extra, true);
}
function setBusy(form, b) {
 busy = b;
 form.querySelector("button[type=submit]").disabled = b || Date.now() < coolUntil;
 form.setAttribute("aria-busy", String(b));
}
// After a 429, the form's button stays disabled for Retry-After seconds (at most an hour).
function cooldown(form, sec) {
 if (!sec) return;
 const b = form.querySelector("button[type=submit]"), ms = Math.min(sec, 3600) * 1000;
 coolUntil = Date.now() + ms; b.disabled = true;
 setTimeout(() => { b.disabled = busy; }, ms + 50);
}
// A problem's field error in the page's language; pol is the password policy when known.
function errText(e, pol) {
 const c = e.code, n = (/\d+/.exec(e.message || "") || [])[0];
 const min = (pol && pol.min_length) || n, max = (pol && pol.max_length) || n;
 if (c === "password_too_short") return min ? t(c, { min }) : t("too_short");
 if (c === "password_too_long") return max ? t(c, { max }) : t("too_long");
 if (/^(password_|invalid_)/.test(c) && c in D.en) return t(c);
 return e.message || t("fail");
}
function setErr(id, text) {
 const e = $(id + "-err");
 e.textContent = text; e.hidden = !text;
 if (text) $(id).setAttribute("aria-invalid", "true"); else $(id).removeAttribute("aria-invalid");
}
// Field errors next to their fields (ids: the fields shown, in form order); anything else goes to
// the status region.
function showErrs(list, ids) {
 const general = [];
 let first = null;
 for (const [id, text] of list) {
  if (!ids.includes(id)) { general.push(text); continue; }
  if (!$(id + "-err").textContent) setErr(id, text);
  if (first === null || ids.indexOf(id) < ids.indexOf(first)) first = id;
 }
 say("err", t("e_fix_t"), general.join(" ") || t("e_fix"), null, first === null);
 if (first) $(first).focus();
}
// The password rules (the policy pol, maybe {}) under the password field, #pw-hint, before
// anything is typed.
function showRules(pol) {
 const hint = [];
 if (pol.min_length && pol.max_length) hint.push(t("pw_hint", { min: pol.min_length, max: pol.max_length }));
 if (pol.charset === "latin_printable") hint.push(t("pw_latin"));
 $("pw-hint").textContent = hint.join(" ");
 $("pw-hint").hidden = !hint.length;
}
// What the password policy lets us tell before asking the server (pol may be {}), and whether
// the repetition matches; [field, text] pairs.
function passwordErrors(pol, repeat) {
 const p = pw.value, n = Array.from(p).length, errs = [];
 if (!p) errs.push(["password", t("e_required")]);
 else if (pol.min_length && n < pol.min_length) errs.push(["password", t("password_too_short", { min: pol.min_length })]);
 else if (pol.max_length && n > pol.max_length) errs.push(["password", t("password_too_long", { max: pol.max_length })]);
 else if (pol.charset === "latin_printable" && /[^\x20-\x7e]/.test(p)) errs.push(["password", t("password_invalid_characters")]);
 if (repeat && p && pw2.value !== p) errs.push(["password2", t("e_mismatch")]);
 return errs;
}
$("show").addEventListener("change", (e) => { pw.type = pw2.type = e.target.checked ? "text" : "password"; });
// end of common.js
