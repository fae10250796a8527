// Wires the page once it is read: the forms, the switches, the address, and a session a reload kept.

const wanted = (navigator.language || "en").slice(0, 2);
state.lang = TEXT[wanted] ? wanted : "en";
translate();
$("signin-form").addEventListener("submit", guarded(signIn));
$("signout").addEventListener("click", guarded(signOut));
$("account").addEventListener("change", switchAccount);
$("language").addEventListener("change", guarded(async () => {
  state.lang = $("language").value;
  translate();
  await go(state.screen);
}));
window.addEventListener("hashchange", guarded(() => (state.access ? go(location.hash.replace(/^#\/?/, "")) : null)));
guarded(async () => {
  if (await refresh()) return openAccount();
  show("signin");
})();
