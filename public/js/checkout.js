// Checkout page (reference §3.4): asks our server for the PaymentIntent of this checkout, lets Stripe.js (or the
// emulator's stand-in) collect and confirm the card, then tells our server the browser saw success. Money is
// booked only when Stripe's webhook arrives.
(() => {
  const root = document.getElementById("checkout");
  const form = document.getElementById("payment-form");
  if (!root || !form) return;
  const errors = document.getElementById("card-errors");
  const pay = document.getElementById("pay");
  const spinner = document.getElementById("spinner");
  const csrf = root.dataset.csrf;
  const stripe = window.Stripe(root.dataset.publishableKey);
  const card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount("#card-element");
  card.on("change", (e) => {
    errors.textContent = e.error ? e.error.message : "";
  });

  const postJson = async (url, body) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
    return res.json();
  };
  const busy = (on) => {
    pay.disabled = on;
    spinner.classList.toggle("d-none", !on);
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    busy(true);
    errors.textContent = "";
    try {
      const intent = await postJson("/payments/create-payment-intent", { id: Number(root.dataset.id) });
      if (intent.error) throw new Error(intent.message || intent.error);
      const result = await stripe.confirmCardPayment(intent.clientSecret, { payment_method: { card } });
      if (result.error) throw new Error(result.error.message);
      await postJson(`/payments/stripe-webpage-confirm/${root.dataset.id}`);
      form.classList.add("d-none");
      document.getElementById("success").classList.remove("d-none");
      const next = root.dataset.next;
      if (next) {
        let left = 10;
        const line = document.getElementById("countdown");
        const tick = () => {
          line.textContent = `Taking you back to ${root.dataset.backLabel} in ${left} seconds`;
          if (left-- <= 0) window.location.assign(next);
          else setTimeout(tick, 1000);
        };
        tick();
      }
    } catch (e) {
      errors.textContent = e.message || "The payment could not be made.";
      busy(false);
    }
  });
})();
