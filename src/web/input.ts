// The one input layer between HTTP and the handlers. Every route is declared through `inputRouter()` with zod
// schemas for its path parameters, query and body; the handler receives the parsed, typed values and never reads
// req.params / req.query / req.body itself. Whatever arrives (JSON objects where text belongs, NUL bytes, ids past
// PostgreSQL's int4, "0x10" for 16) is refused here with a message naming the field, as the route's normal
// refusal (400), so it cannot reach the database or a String() call. tests/http/input-layer.test.ts walks the
// app's router and fails if a route was registered any other way.
import { randomUUID } from "node:crypto";
import { type NextFunction, type Request, type RequestHandler, type Response, Router } from "express";
import { z } from "zod";
import { AppError, badInput, notFound } from "../lib/errors";
import { parseAmount, parsePercent, parseSignedAmount } from "../lib/money";
import { controlCharProblem, isCalendarDate } from "../lib/validation";
import { wantsJson } from "./error-handler";

export const INT4_MAX = 2_147_483_647;
const INT8_MAX = 9_223_372_036_854_775_807n;

type Field<T> = z.ZodType<T, unknown>;

/**
 * A field that takes any value and maps it (or adds an issue). Wrapped in a preprocess step because zod 4 refuses
 * a missing key outright ("expected nonoptional") when the schema's output is not optional.
 */
export function accept<T>(map: (value: unknown, ctx: z.RefinementCtx) => T): Field<T> {
  return z.preprocess((v) => v, z.unknown().transform(map));
}

/**
 * The common shape of a field: undefined → "is required", anything but text (a JSON object, array, number,
 * a repeated form key) → "must be text", then `parse` on the text, whose AppError message becomes the refusal.
 */
function field<T>(label: string, parse: (text: string) => T, opts: { numbers?: boolean } = {}): Field<T> {
  return accept((raw, ctx) => {
    const v = opts.numbers && typeof raw === "number" && Number.isFinite(raw) ? String(raw) : raw;
    try {
      if (v === undefined || v === null) throw badInput(`${label} is required.`);
      if (typeof v !== "string") throw badInput(`${label} must be text.`);
      return parse(v);
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      ctx.addIssue({ code: "custom", message: e.message });
      return z.NEVER;
    }
  });
}

/** A field that may be left out or blank (→ undefined); anything else must pass `inner`. */
export function optional<T>(inner: Field<T>): Field<T | undefined> {
  return accept((v, ctx) => {
    if (v === undefined || v === "") return undefined;
    const r = inner.safeParse(v);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ code: "custom", message: issue.message });
    return z.NEVER;
  });
}

function wholeNumber(label: string, text: string, max: number) {
  if (text === "") throw badInput(`${label} is required.`);
  if (!/^\d+$/.test(text)) throw badInput(`${label} must be a whole number (digits only).`);
  const n = Number(text);
  if (n > max) throw badInput(`${label} is too large.`);
  return n;
}

export const fields = {
  /** A record id: plain decimal digits, 1 to PostgreSQL's int4 maximum. A JSON number is taken as its digits. */
  id: (label = "Id") =>
    field(
      label,
      (t) => {
        const n = wholeNumber(label, t, INT4_MAX);
        if (n < 1) throw badInput(`${label} must be a positive whole number.`);
        return n;
      },
      { numbers: true },
    ),
  /** A bigint record id (PostgreSQL int8): plain decimal digits, 1 to its maximum. */
  bigId: (label = "Id") =>
    field(label, (t) => {
      if (!/^\d{1,19}$/.test(t)) throw badInput(`${label} must be a whole number (digits only).`);
      const n = BigInt(t);
      if (n < 1n || n > INT8_MAX) throw badInput(`${label} is out of range.`);
      return n;
    }),
  /** A number a person types (ABF number, weeks, page): digits only after trimming, 0 to `max`. */
  integer: (label: string, max = INT4_MAX) => field(label, (t) => wholeNumber(label, t.trim(), max)),
  /** Dollars and cents as typed ("12.50") → integer cents; the rules are lib/money's. */
  amount: (label = "Amount") => field(label, (t) => parseAmount(t, label)),
  /** Like `amount`, but "-12.50" is allowed (adjustments move money either way). */
  signedAmount: (label = "Amount") => field(label, (t) => parseSignedAmount(t, label)),
  /** "1.35" (percent) → 13500 parts per million. */
  percent: (label: string) => field(label, (t) => parsePercent(t, label)),
  /** YYYY-MM-DD, a day that exists (not 2026-02-30). */
  date: (label = "Date") =>
    field(label, (t) => {
      if (!isCalendarDate(t)) throw badInput(`${label} is a date in the form YYYY-MM-DD.`);
      return t;
    }),
  /**
   * Free text as typed, at most `max` characters, with no control characters (PostgreSQL refuses NUL, and none
   * belongs in a name or a description). Line breaks and tabs only where `multiline`.
   */
  text: (label: string, opts: { max?: number; multiline?: boolean } = {}) =>
    field(label, (t) => {
      const max = opts.max ?? 200;
      if (t.length > max) throw badInput(`${label} must be at most ${max} characters.`);
      const problem = controlCharProblem(t, !!opts.multiline);
      if (problem) throw badInput(`${label} ${problem}.`);
      return t;
    }),
  /** A password: any characters (it is hashed, never stored as text), bounded in length. */
  password: (label = "Password") =>
    field(label, (t) => {
      if (t.length > 1024) throw badInput(`${label} is too long.`);
      return t;
    }),
  /** One of a fixed list of values, as the page's select or button sends it. */
  oneOf: <const V extends string>(label: string, values: readonly V[]) =>
    field(label, (t) => {
      if (!(values as readonly string[]).includes(t)) throw badInput(`${label} must be one of: ${values.join(", ")}.`);
      return t as V;
    }),
  /**
   * The hidden request id that makes a repeated submit book once (the page renders a UUID). Absent: a fresh one
   * (that submit books once on its own); anything the page could not have rendered is refused.
   */
  requestId: (): Field<string> =>
    accept((v, ctx) => {
      if (v === undefined || v === "") return randomUUID();
      if (typeof v === "string" && /^[\w-]{8,64}$/.test(v)) return v;
      ctx.addIssue({ code: "custom", message: "The form's request id is not valid; reload the page." });
      return z.NEVER;
    }),
  /** A group of checkboxes with one name: absent → [], one ticked → that value, several → each. */
  list: <T>(label: string, item: Field<T>): Field<T[]> =>
    accept((v, ctx) => {
      const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
      if (values.length > 100) {
        ctx.addIssue({ code: "custom", message: `${label}: too many values.` });
        return z.NEVER;
      }
      const out: T[] = [];
      for (const value of values) {
        const r = item.safeParse(value);
        if (r.success) out.push(r.data);
        else for (const issue of r.error.issues) ctx.addIssue({ code: "custom", message: issue.message });
      }
      return out;
    }),
  /** An HTML checkbox: "on" when ticked, absent when not. */
  checkbox: (label: string): Field<boolean> =>
    accept((v, ctx) => {
      if (v === undefined || v === "") return false;
      if (v === "on") return true;
      ctx.addIssue({ code: "custom", message: `${label} is a checkbox (on or absent).` });
      return z.NEVER;
    }),
};

/** Keeps the text values of a submitted form (anything else as ""), to show the form again after a refusal. */
export function formValues<K extends string>(body: unknown, keys: readonly K[]): Record<K, string> {
  const b = textValues(body);
  return Object.fromEntries(keys.map((k) => [k, Object.hasOwn(b, k) ? b[k] : ""])) as Record<K, string>;
}

/** Every text value of a submitted form, for forms whose field names vary (one per club). */
export function textValues(body: unknown): Record<string, string> {
  if (!body || typeof body !== "object" || Array.isArray(body)) return {};
  return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === "string"));
}

// --- declaring routes -----------------------------------------------------------------------------------------

type Schema = z.ZodType<unknown, unknown>;
type Out<S> = S extends z.ZodType<infer O, unknown> ? O : Record<string, never>;

export interface RouteSpec<P extends Schema, Q extends Schema, B extends Schema> {
  /**
   * Who may call it: runs before the input is looked at, so strangers get 401/403, not a 400 about fields (the
   * webhook puts its raw-body reader here too).
   */
  guard?: RequestHandler | RequestHandler[];
  /** Required whenever the path has parameters; each must be in it. A parameter that fails it is a 404. */
  params?: P;
  query?: Q;
  /** "raw": the handler reads the raw body itself and proves it another way (the Stripe webhook's signature). */
  body?: B | "raw";
  /** How this route shows a refusal (a form again, with the message); otherwise a 400 page, or 400 {error}. */
  invalid?: (req: Request, res: Response, message: string) => unknown;
}

export interface Input<P, Q, B> {
  params: P;
  query: Q;
  body: B;
}

type Handler<P, Q, B> = (req: Request, res: Response, input: Input<P, Q, B>, next: NextFunction) => unknown;

/**
 * Marks the handlers registered through this layer, with the field names each part declares: the router-walking
 * test looks for it, and the fuzz test sends those fields.
 */
export const INPUT_LAYER = Symbol("input-layer");
export interface DeclaredInput {
  params: string[];
  query: string[];
  body: string[] | "raw";
}

/** The keys an object schema names (through refinements, intersections and transforms). */
function fieldNames(schema: Schema | undefined): string[] {
  const def = (schema as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def;
  if (!def) return [];
  if (def.type === "object") return Object.keys(def.shape as object);
  if (def.type === "intersection") return [...fieldNames(def.left as Schema), ...fieldNames(def.right as Schema)];
  if (def.type === "pipe") return fieldNames(def.in as Schema);
  return [];
}

const EMPTY = z.object({});

/** Our fields word their own refusals; a plain zod check (if a route uses one) is named by its path only. */
function describe(error: z.ZodError) {
  const lines = error.issues.map((i) =>
    i.code === "custom" ? i.message : `${i.path.map(String).join(".") || "The input"} is not valid.`,
  );
  return [...new Set(lines)].join(" ");
}

function parsePart(
  schema: Schema,
  value: unknown,
  what: string,
): { ok: true; data: unknown } | { ok: false; message: string } {
  // Forms and JSON both arrive as a plain object; an array, a string or null is not a form.
  const v = value === undefined ? {} : value;
  if (v === null || typeof v !== "object" || Array.isArray(v))
    return { ok: false, message: `The ${what} could not be read.` };
  const r = schema.safeParse(v);
  if (r.success) return { ok: true, data: r.data };
  return { ok: false, message: describe(r.error) || `The ${what} could not be read.` };
}

function pathParams(path: string | string[]) {
  return [
    ...new Set((Array.isArray(path) ? path : [path]).flatMap((p) => [...p.matchAll(/:(\w+)/g)].map((m) => m[1]!))),
  ];
}

function register<P extends Schema, Q extends Schema, B extends Schema>(
  router: Router,
  method: "get" | "post" | "all",
  path: string | string[],
  spec: RouteSpec<P, Q, B>,
  handler: Handler<Out<P>, Out<Q>, Out<B>>,
) {
  const declared: DeclaredInput = {
    params: fieldNames(spec.params),
    query: fieldNames(spec.query),
    body: spec.body === "raw" ? "raw" : fieldNames(spec.body),
  };
  const missing = pathParams(path).filter((k) => !declared.params.includes(k));
  if (missing.length) throw new Error(`route ${String(path)}: no schema for path parameter(s) ${missing.join(", ")}`);

  const withInput: RequestHandler = async (req, res, next) => {
    // An address whose parameters are not what the route names (an id that is not one) leads nowhere: 404.
    const address = parsePart(spec.params ?? EMPTY, req.params, "address");
    if (!address.ok) throw notFound(address.message);
    const parts = [
      address,
      parsePart(spec.query ?? EMPTY, req.query, "query"),
      spec.body === "raw" ? { ok: true as const, data: req.body } : parsePart(spec.body ?? EMPTY, req.body, "form"),
    ];
    const problems = parts.flatMap((p) => (p.ok ? [] : [p.message]));
    if (problems.length) {
      const message = problems.join(" ");
      // A script calling with JSON gets 400 {error}; a form is shown again by the route, when it says how.
      if (!spec.invalid || wantsJson(req)) throw badInput(message);
      await spec.invalid(req, res, message);
      return;
    }
    const [params, query, body] = parts.map((p) => (p.ok ? p.data : undefined));
    await handler(req, res, { params, query, body } as Input<Out<P>, Out<Q>, Out<B>>, next);
  };
  Object.defineProperty(withInput, INPUT_LAYER, { value: declared });
  const guards = spec.guard === undefined ? [] : Array.isArray(spec.guard) ? spec.guard : [spec.guard];
  router[method](path, ...guards, withInput);
}

/**
 * A Router whose routes must declare their input: `r.post(path, { guard, params, query, body, invalid }, handler)`.
 * Unknown keys are dropped; a field that fails its schema refuses the whole request before the handler runs.
 */
export function inputRouter() {
  const router = Router();
  const verb =
    (method: "get" | "post" | "all") =>
    <P extends Schema = typeof EMPTY, Q extends Schema = typeof EMPTY, B extends Schema = typeof EMPTY>(
      path: string | string[],
      spec: RouteSpec<P, Q, B>,
      handler: Handler<Out<P>, Out<Q>, Out<B>>,
    ) =>
      register(router, method, path, spec, handler);
  return { router, get: verb("get"), post: verb("post"), all: verb("all") };
}
