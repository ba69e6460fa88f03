// The Australian Direct Entry (ABA, "Cemtex") file a bank imports to pay many accounts at once: 120-character
// records separated by CRLF — one descriptive record (type 0), a detail record per payment (type 1, transaction
// code 50 = credit) and a file total record (type 7). Amounts are whole cents, zero-filled; text fields are
// upper case and limited to the BECS character set.

export interface AbaHeader {
  bankCode: string; // e.g. "CBA"
  userName: string; // the user name the bank knows (26)
  userId: string; // APCA user id, 6 digits
  description: string; // up to 12, e.g. "SETTLEMENT"
  processingDate: Date;
  /** Trace account: the federation's own BSB and account, and its name on the payee's statement. */
  traceBsb: string;
  traceAccount: string;
  remitterName: string;
}

export interface AbaPayment {
  bsb: string; // six digits
  account: string; // up to nine digits
  accountName: string;
  amountCents: bigint;
  reference: string; // lodgement reference on the payee's statement (18)
}

const RECORD = 120;

/** Upper case, only characters banks accept. */
const clean = (v: string) =>
  v
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toUpperCase()
    .replace(/[^A-Z0-9 &'()+,\-./:;?@]/g, " ");

/** Cleaned, cut or padded to `n` (names: a bank shows what fits). */
const text = (v: string, n: number) => clean(v).slice(0, n).padEnd(n, " ");

/** Cleaned and padded, never cut: a cut reference no longer says what the payment is for. */
function whole(v: string, n: number) {
  const s = clean(v).trim();
  if (s.length > n) throw new Error(`"${s}" does not fit ${n} characters`);
  return s.padEnd(n, " ");
}

function digits(v: bigint | number | string, n: number) {
  const s = String(v);
  if (!/^\d+$/.test(s) || s.length > n) throw new Error(`${s} does not fit ${n} digits`);
  return s.padStart(n, "0");
}

const bsb = (v: string) => {
  if (!/^\d{6}$/.test(v)) throw new Error(`BSB ${v} is not six digits`);
  return `${v.slice(0, 3)}-${v.slice(3)}`;
};

const account = (v: string) => {
  if (!/^\d{1,9}$/.test(v)) throw new Error(`account ${v} is not one to nine digits`);
  return v.padStart(9, " ");
};

function ddmmyy(d: Date) {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}${p(d.getUTCMonth() + 1)}${p(d.getUTCFullYear() % 100)}`;
}

export function abaFile(h: AbaHeader, payments: AbaPayment[]): string {
  const records: string[] = [];
  records.push(
    `0${" ".repeat(17)}01${text(h.bankCode, 3)}${" ".repeat(7)}${text(h.userName, 26)}${digits(h.userId, 6)}` +
      `${text(h.description, 12)}${ddmmyy(h.processingDate)}${" ".repeat(40)}`,
  );
  let total = 0n;
  for (const p of payments) {
    if (p.amountCents <= 0n) throw new Error("a payment must be more than zero");
    total += p.amountCents;
    records.push(
      `1${bsb(p.bsb)}${account(p.account)} 50${digits(p.amountCents, 10)}${text(p.accountName, 32)}` +
        `${whole(p.reference, 18)}${bsb(h.traceBsb)}${account(h.traceAccount)}${text(h.remitterName, 16)}00000000`,
    );
  }
  records.push(
    `7999-999${" ".repeat(12)}${digits(total, 10)}${digits(total, 10)}${digits(0, 10)}${" ".repeat(24)}` +
      `${digits(payments.length, 6)}${" ".repeat(40)}`,
  );
  for (const r of records) if (r.length !== RECORD) throw new Error(`ABA record of ${r.length} characters`);
  return `${records.join("\r\n")}\r\n`;
}
