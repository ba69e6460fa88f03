// The federation's Direct Entry details that every settlement bank file carries: its bank, its APCA user id
// and the trace account (the federation's own BSB and account, where a bank returns a payment it cannot make).
// They come from the payment settings; while any is unset no bank file is written, rather than a file with a
// made-up number that the bank would reject or, worse, accept.
import { badInput } from "../../lib/errors";
import type { activePaymentSettings } from "../payments/settings";

type Settings = Awaited<ReturnType<typeof activePaymentSettings>>;

export interface DirectEntryDetails {
  bankCode: string;
  userName: string;
  userId: string;
  remitterName: string;
  traceBsb: string;
  traceAccount: string;
}

const REQUIRED: [keyof Settings, string, RegExp][] = [
  ["abaBankCode", "bank code", /^[A-Z]{3}$/],
  ["abaUserName", "Direct Entry user name", /^.{1,26}$/],
  ["abaUserId", "APCA user id", /^(?!0{6})\d{6}$/],
  ["abaRemitterName", "remitter name", /^.{1,16}$/],
  ["federationBsb", "federation BSB", /^(?!0{6})\d{6}$/],
  ["federationAccount", "federation account number", /^(?!0+$)\d{1,9}$/],
];

/** What is missing for a bank file, or null when every detail is set. */
export function directEntryProblem(s: Settings): string | null {
  const missing = REQUIRED.filter(([k, , re]) => !re.test(String(s[k] ?? ""))).map(([, label]) => label);
  if (!missing.length) return null;
  return (
    `The settlement bank file cannot be written: the ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} ` +
    "not set. A finance editor sets them on the Payment settings page (/payments/admin-payments-static)."
  );
}

/** The details for the bank file; refuses (bad input, so nothing is booked) while any is unset. */
export function directEntryDetails(s: Settings): DirectEntryDetails {
  const problem = directEntryProblem(s);
  if (problem) throw badInput(problem);
  return {
    bankCode: s.abaBankCode!,
    userName: s.abaUserName,
    userId: s.abaUserId!,
    remitterName: s.abaRemitterName,
    traceBsb: s.federationBsb!,
    traceAccount: s.federationAccount!,
  };
}
