// Auto top-up card set-up (reference §3.3.1): a SetupIntent from our server, confirmed by Stripe.js (or the
// emulator's stand-in). Auto top-up is switched on by Stripe's webhook, not by this page.
(() => {
  const root = document.getElementById("card-setup");
  const form = document.getElementById("setup-form");
  if (!root || !form) return;
  const errors = document.getElementById("card-errors");
  const save = document.getElementById("save");
  const csrf = root.dataset.csrf;
  const postJson = async (url) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
      body: "{}",
    });
    return res.json();
  };

  let stripe = null;
  let card = null;
  let clientSecret = null;
  postJson("/payments/create-payment-superintent").then((intent) => {
    if (intent.error) {
      errors.textContent = intent.error;
      return;
    }
    clientSecret = intent.clientSecret;
    stripe = window.Stripe(intent.publishableKey);
    card = stripe.elements().create("card", { hidePostalCode: true });
    card.mount("#card-element");
    card.on("change", (e) => {
      errors.textContent = e.error ? e.error.message : "";
    });
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!stripe) return;
    save.disabled = true;
    errors.textContent = "";
    await postJson("/payments/stripe-autotopup-off");
    const result = await stripe.confirmCardSetup(clientSecret, { payment_method: { card } });
    if (result.error) {
      errors.textContent = result.error.message;
      save.disabled = false;
      return;
    }
    await postJson("/payments/stripe-autotopup-confirm");
    form.classList.add("d-none");
    document.getElementById("success").classList.remove("d-none");
  });
})();
