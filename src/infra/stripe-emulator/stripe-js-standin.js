// Stand-in for the part of Stripe.js (v3) the pages use, served by the local Stripe emulator:
// Stripe(publishableKey), elements().create("card"), element.mount/on/clear, confirmCardPayment and
// confirmCardSetup. It renders a plain card form instead of Stripe's iframe and shows a small dialog in place
// of the 3-D Secure pop-up. Pages written against it run unchanged against real Stripe.js with real keys.
(() => {
  const script = document.currentScript;
  const base = script ? new URL(script.src).origin : "";

  function encode(value, prefix, out) {
    if (value === undefined || value === null) return out;
    if (typeof value === "object") {
      for (const k of Object.keys(value)) encode(value[k], prefix ? `${prefix}[${k}]` : k, out);
    } else {
      out.push(`${encodeURIComponent(prefix)}=${encodeURIComponent(String(value))}`);
    }
    return out;
  }

  async function post(path, key, params) {
    const res = await fetch(base + path, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: encode(params, "", []).join("&"),
    });
    return { ok: res.ok, body: await res.json() };
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k of Object.keys(attrs || {})) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    return e;
  }

  class CardElement {
    constructor(options) {
      this.options = options || {};
      this.handlers = {};
      this.root = null;
    }
    mount(target) {
      const host = typeof target === "string" ? document.querySelector(target) : target;
      this.root = el("div", { class: "row g-2 bc-card-element", "data-emulated-stripe": "card" });
      const field = (name, label, placeholder, cls, autocomplete) => {
        const col = el("div", { class: cls });
        const input = el("input", {
          class: "form-control",
          name: `emulated-${name}`,
          "aria-label": label,
          placeholder,
          inputmode: "numeric",
          autocomplete,
        });
        input.addEventListener("input", () => this.emit("change", this.state()));
        col.appendChild(input);
        this.root.appendChild(col);
        return input;
      };
      this.number = field("cardnumber", "Card number", "1234 1234 1234 1234", "col-12 col-md-6", "cc-number");
      this.expiry = field("exp-date", "Expiry date (MM / YY)", "MM / YY", "col-6 col-md-3", "cc-exp");
      this.cvc = field("cvc", "CVC", "CVC", "col-6 col-md-3", "cc-csc");
      host.appendChild(this.root);
      this.emit("ready", {});
    }
    on(event, handler) {
      if (!this.handlers[event]) this.handlers[event] = [];
      this.handlers[event].push(handler);
      return this;
    }
    emit(event, payload) {
      for (const h of this.handlers[event] || []) h(payload);
    }
    focus() {
      this.number?.focus();
    }
    clear() {
      for (const i of [this.number, this.expiry, this.cvc]) if (i) i.value = "";
    }
    unmount() {
      this.root?.remove();
    }
    destroy() {
      this.unmount();
    }
    state() {
      const digits = (this.number?.value || "").replace(/\D/g, "");
      const brand = /^4/.test(digits)
        ? "visa"
        : /^5[1-5]/.test(digits)
          ? "mastercard"
          : /^3[47]/.test(digits)
            ? "amex"
            : "unknown";
      const error = this.validate();
      return { elementType: "card", empty: !digits, complete: !error, brand, error: error || undefined };
    }
    validate() {
      const digits = (this.number?.value || "").replace(/\D/g, "");
      if (digits.length < 13)
        return { type: "validation_error", code: "incomplete_number", message: "Your card number is incomplete." };
      const m = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(this.expiry?.value || "");
      if (!m)
        return {
          type: "validation_error",
          code: "incomplete_expiry",
          message: "Your card's expiration date is incomplete.",
        };
      if (!/^\d{3,4}$/.test((this.cvc?.value || "").trim()))
        return {
          type: "validation_error",
          code: "incomplete_cvc",
          message: "Your card's security code is incomplete.",
        };
      return null;
    }
    cardData() {
      const m = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(this.expiry.value);
      return {
        number: this.number.value.replace(/\D/g, ""),
        exp_month: m[1],
        exp_year: m[2],
        cvc: this.cvc.value.trim(),
      };
    }
  }

  // The 3-D Secure stand-in: the cardholder approves or fails the payment.
  function authenticate() {
    return new Promise((resolve) => {
      const overlay = el("div", {
        role: "dialog",
        "aria-modal": "true",
        "aria-label": "Card authentication",
        class: "bc-emulated-3ds",
      });
      Object.assign(overlay.style, {
        position: "fixed",
        inset: "0",
        background: "rgba(0,0,0,.5)",
        zIndex: "2000",
        display: "flex",
        alignItems: "center",
        justifyContent: "center",
      });
      const box = el("div", { class: "card p-4 shadow" });
      box.appendChild(el("h2", { class: "h5" }, "Your bank wants to check it is you"));
      box.appendChild(el("p", {}, "Emulated 3-D Secure: complete or fail the authentication of this card."));
      const ok = el("button", { type: "button", class: "btn btn-success me-2" }, "Complete authentication");
      const no = el("button", { type: "button", class: "btn btn-outline-danger" }, "Fail authentication");
      const done = (v) => () => {
        overlay.remove();
        resolve(v);
      };
      ok.addEventListener("click", done(true));
      no.addEventListener("click", done(false));
      box.appendChild(ok);
      box.appendChild(no);
      overlay.appendChild(box);
      document.body.appendChild(overlay);
    });
  }

  function Stripe(publishableKey) {
    if (!publishableKey) throw new Error("Stripe(): a publishable key is required");
    const elementsList = [];

    async function confirm(kind, clientSecret, data) {
      const id = String(clientSecret).split("_secret_")[0];
      const pm = data?.payment_method;
      const params = { client_secret: clientSecret };
      if (pm && typeof pm === "object" && pm.card instanceof CardElement) {
        const invalid = pm.card.validate();
        if (invalid) return { error: invalid };
        params.payment_method_data = { type: "card", card: pm.card.cardData(), billing_details: pm.billing_details };
      } else if (typeof pm === "string") {
        params.payment_method = pm;
      }
      const path = kind === "payment" ? "payment_intents" : "setup_intents";
      let r = await post(`/v1/${path}/${id}/confirm`, publishableKey, params);
      if (r.ok && r.body.status === "requires_action") {
        const approve = await authenticate();
        r = await post(`/v1/emulator/authenticate/${id}`, publishableKey, { client_secret: clientSecret, approve });
      }
      if (!r.ok) return { error: r.body.error };
      return kind === "payment" ? { paymentIntent: r.body } : { setupIntent: r.body };
    }

    return {
      elements() {
        return {
          create(type, options) {
            if (type !== "card")
              throw new Error(`The emulated Stripe.js only offers the "card" element, not "${type}"`);
            const e = new CardElement(options);
            elementsList.push(e);
            return e;
          },
          getElement() {
            return elementsList[0] || null;
          },
        };
      },
      confirmCardPayment: (clientSecret, data) => confirm("payment", clientSecret, data),
      confirmCardSetup: (clientSecret, data) => confirm("setup", clientSecret, data),
    };
  }

  window.Stripe = Stripe;
})();
