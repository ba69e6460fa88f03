// "Charge a session" preview: one click books; the button is disabled after it so a double click sends one form.
// (The server books a form once anyway: this only spares the second request.)
(() => {
  const form = document.getElementById("confirm-form");
  if (!form) return;
  form.addEventListener("submit", (e) => {
    if (e.submitter && e.submitter.hasAttribute("formaction")) return;
    for (const b of form.querySelectorAll("button")) b.disabled = true;
  });
})();
