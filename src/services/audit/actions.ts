// Every action the audit trail records (docs/audit.md), by family, so the audit page's filter offers each family
// and action before any row of it exists. Actions recorded but not listed here (added later) are offered too.
export const AUDITED_ACTIONS = [
  "accounting.export",
  "accounting.mapping_save",
  "accounting.reexport",
  "adjustment.member",
  "adjustment.org",
  "api_key.create",
  "api_key.revoke",
  "approval.approve",
  "approval.fail",
  "approval.reject",
  "approval.request",
  "export.download",
  "fee_override.add",
  "fee_override.delete",
  "organisation.create",
  "refund.admin",
  "role.grant",
  "role.revoke",
  "session.sign_out_all",
  "session_charges.confirm",
  "settings.save",
  "settlement.bank_file",
  "settlement.club",
  "settlement.confirm",
  "settlement.line_returned",
  "settlement.manual",
  "settlement.paid",
  "settlement.submitted",
  "stripe.reapply",
  "stripe.repair",
  "stripe.reset_setups",
  "two_factor.disable",
  "two_factor.enrol",
  "two_factor.reset",
  "user.activate",
  "user.create",
  "user.deactivate",
  "user.reset_password",
  "webhook_delivery.resend",
  "webhook_endpoint.create",
  "webhook_endpoint.delete",
  "webhook_endpoint.disable",
  "webhook_endpoint.enable",
  "webhook_endpoint.reveal_secret",
] as const;

export interface ActionFamily {
  /** The family's name ("two_factor"): as a filter, every action in it. */
  family: string;
  actions: string[];
}

/** The filter's choices: the known actions and those recorded, grouped by family, in name order. */
export function actionFamilies(recorded: string[]): ActionFamily[] {
  const byFamily = new Map<string, Set<string>>();
  for (const action of [...AUDITED_ACTIONS, ...recorded]) {
    const family = action.slice(0, action.indexOf("."));
    if (!byFamily.has(family)) byFamily.set(family, new Set());
    byFamily.get(family)!.add(action);
  }
  return [...byFamily.keys()].sort().map((family) => ({ family, actions: [...byFamily.get(family)!].sort() }));
}
