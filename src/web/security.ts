// HTTP hardening headers. The Content-Security-Policy allows this site's own files and nothing external except
// what Stripe.js needs (its script, its iframes, its API), so an injected script cannot run or phone home.
import helmet from "helmet";

/** `extraOrigins`: the local Stripe emulator's address, when it stands in for Stripe. */
export function securityHeaders(extraOrigins: string[] = []) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "https://js.stripe.com", ...extraOrigins],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:", "https://*.stripe.com"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'", "https://api.stripe.com", ...extraOrigins],
        frameSrc: ["https://js.stripe.com", "https://hooks.stripe.com"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
      },
    },
    // Same-origin form posts from an http://localhost dev server must keep working.
    strictTransportSecurity: false,
  });
}
