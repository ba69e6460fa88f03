// Confirms an auto top-up the bank wants authenticated (decision 8): Stripe.js re-confirms the PaymentIntent
// on-session with the saved card; the webhook then books the top-up.
(() => {
  const root = document.getElementById("confirm-topup");
  const button = document.getElementById("confirm");
  if (!root || !button) return;
  const errors = document.getElementById("card-errors");
  const stripe = window.Stripe(root.dataset.publishableKey);
  button.addEventListener("click", async () => {
    button.disabled = true;
    errors.textContent = "";
    const result = await stripe.confirmCardPayment(root.dataset.clientSecret, {
      payment_method: root.dataset.paymentMethod,
    });
    if (result.error) {
      errors.textContent = result.error.message;
      button.disabled = false;
      return;
    }
    button.classList.add("d-none");
    document.getElementById("success").classList.remove("d-none");
  });
})();
