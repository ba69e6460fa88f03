// Contract check: an API answer must match what the served OpenAPI document says about that operation and
// status — content type and body, validated by a small JSON Schema (2020-12 subset) validator that reads the
// document itself: $ref, type (with null), enum, const, properties, required, additionalProperties, items,
// anyOf/oneOf/allOf, minimum/maximum, minItems/maxItems, minLength/maxLength, pattern.
import type { Response } from "supertest";

type Schema = Record<string, unknown>;
export interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>
  >;
  components: { schemas: Record<string, Schema> };
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

export function validate(doc: OpenApiDocument, schema: Schema, value: unknown, at = "$"): string[] {
  if (typeof schema.$ref === "string") {
    const name = schema.$ref.replace("#/components/schemas/", "");
    const target = doc.components.schemas[name];
    if (!target) return [`${at}: unknown $ref ${schema.$ref}`];
    return validate(doc, target, value, at);
  }
  const errors: string[] = [];
  const t = typeOf(value);
  if (schema.type !== undefined) {
    const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as string[];
    if (!types.includes(t) && !(t === "integer" && types.includes("number"))) {
      return [`${at}: expected ${types.join("|")}, got ${t}`];
    }
  }
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) errors.push(`${at}: ${String(value)} not in enum`);
  if ("const" in schema && schema.const !== value) errors.push(`${at}: expected ${String(schema.const)}`);
  if (t === "object") {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) errors.push(`${at}: missing ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errors.push(...validate(doc, props[k], v, `${at}.${k}`));
      else if (schema.additionalProperties === false) errors.push(`${at}: unexpected property ${k}`);
      else if (typeof schema.additionalProperties === "object") {
        errors.push(...validate(doc, schema.additionalProperties as Schema, v, `${at}.${k}`));
      }
    }
  }
  if (t === "array") {
    const arr = value as unknown[];
    if (typeof schema.minItems === "number" && arr.length < schema.minItems) errors.push(`${at}: too few items`);
    if (typeof schema.maxItems === "number" && arr.length > schema.maxItems) errors.push(`${at}: too many items`);
    if (schema.items) {
      for (const [i, v] of arr.entries()) errors.push(...validate(doc, schema.items as Schema, v, `${at}[${i}]`));
    }
  }
  if (t === "string") {
    const s = value as string;
    if (typeof schema.minLength === "number" && s.length < schema.minLength) errors.push(`${at}: too short`);
    if (typeof schema.maxLength === "number" && s.length > schema.maxLength) errors.push(`${at}: too long`);
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern).test(s)) errors.push(`${at}: pattern`);
  }
  if (t === "integer" || t === "number") {
    const n = value as number;
    if (typeof schema.minimum === "number" && n < schema.minimum) errors.push(`${at}: below minimum`);
    if (typeof schema.maximum === "number" && n > schema.maximum) errors.push(`${at}: above maximum`);
    if (typeof schema.exclusiveMinimum === "number" && n <= schema.exclusiveMinimum) errors.push(`${at}: too small`);
  }
  if (Array.isArray(schema.allOf))
    for (const s of schema.allOf as Schema[]) errors.push(...validate(doc, s, value, at));
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = schema[key] as Schema[] | undefined;
    if (!options) continue;
    const passing = options.filter((s) => validate(doc, s, value, at).length === 0).length;
    if (passing === 0 || (key === "oneOf" && passing > 1)) errors.push(`${at}: matches ${passing} of ${key}`);
  }
  return errors;
}

/** The document's operation for a concrete path ("/charges/ch_4" → "/charges/{id}"). */
function operationFor(doc: OpenApiDocument, method: string, path: string) {
  const bare = path.split("?")[0]!;
  for (const [template, ops] of Object.entries(doc.paths)) {
    const re = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (re.test(bare) && ops[method]) return { template, op: ops[method]! };
  }
  return null;
}

/** Throws unless `res` is an answer the document allows for this call. */
export function checkResponse(doc: OpenApiDocument, method: string, path: string, res: Response) {
  const found = operationFor(doc, method, path);
  if (!found) throw new Error(`contract: the document has no ${method.toUpperCase()} ${path}`);
  const responses = found.op.responses;
  const spec = responses[String(res.status)] ?? responses.default;
  if (!spec) throw new Error(`contract: ${method.toUpperCase()} ${found.template} may not answer ${res.status}`);
  const type = String(res.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim();
  const media = spec.content?.[type];
  if (!media) {
    throw new Error(`contract: ${method.toUpperCase()} ${found.template} ${res.status} may not be ${type || "empty"}`);
  }
  const errors = validate(doc, media.schema, JSON.parse(res.text));
  if (errors.length) {
    throw new Error(
      `contract: ${method.toUpperCase()} ${found.template} ${res.status}:\n  ${errors.join("\n  ")}\n${res.text}`,
    );
  }
}
