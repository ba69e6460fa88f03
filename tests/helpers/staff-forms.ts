// Staff actions driven through their pages as rendered: the form is read from the page (CSRF token and request
// id included), the person's typing is filled in, and the button they press is sent as the browser sends it.
import type TestAgent from "supertest/lib/agent";
import { renderedForm } from "./rendered-form";

/** GET `page`, fill `typed` into its form posting to `action`, POST it. */
export async function submitForm(agent: TestAgent, page: string, action: string, typed: Record<string, string> = {}) {
  const html = (await agent.get(page)).text;
  return agent
    .post(action)
    .type("form")
    .send({ ...renderedForm(html, action), ...typed });
}

/** The review step, then its confirmation page's form with the "Confirm" button (step=confirm). */
export async function reviewAndConfirm(agent: TestAgent, page: string, action: string, typed: Record<string, string>) {
  const review = await submitForm(agent, page, action, { ...typed, step: "review" });
  if (review.status !== 200) return review;
  return agent
    .post(action)
    .type("form")
    .send({ ...renderedForm(review.text, action), step: "confirm" });
}

export const adjustMember = (agent: TestAgent, abf: number, amount: string, description = "Correction") =>
  reviewAndConfirm(agent, "/payments/manual-adjust-member", "/payments/manual-adjust-member", {
    member: String(abf),
    amount,
    description,
  });

export const adjustOrg = (
  agent: TestAgent,
  orgId: number,
  amount: string,
  type: "Manual Adjustment" | "Settlement" = "Manual Adjustment",
) =>
  reviewAndConfirm(agent, "/payments/manual-adjust-org", "/payments/manual-adjust-org", {
    organisation: String(orgId),
    type,
    amount,
    description: "Club correction",
  });

/** Presses a button form (approve, reject…) found on `page` by its action. */
export const pressButton = (agent: TestAgent, page: string, action: string, typed: Record<string, string> = {}) =>
  submitForm(agent, page, action, typed);
