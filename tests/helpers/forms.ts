// Reads a form as the page rendered it, so tests post what the browser would: every hidden field (CSRF token,
// request id, reference date…) comes from the HTML, never from the test.
export interface RenderedInput {
  name: string;
  type: string;
  value: string;
  checked: boolean;
  disabled: boolean;
}

const htmlText = (v: string) =>
  v
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/** A tag's attributes, read in order (so text inside a quoted value is never taken for an attribute). */
function attributes(tag: string) {
  const out = new Map<string, string>();
  for (const m of tag.slice("<input".length).matchAll(/\s*([\w:-]+)(?:="([^"]*)")?/g)) {
    out.set(m[1]!, htmlText(m[2] ?? ""));
  }
  return out;
}

/** The inputs of the form with this id, or (`form` starting with "/") the form posting to that address. */
export function renderedInputs(html: string, form: string): RenderedInput[] {
  const start = html.indexOf(form.startsWith("/") ? `action="${form}"` : `id="${form}"`);
  if (start < 0) throw new Error(`no form ${form} on the page`);
  const end = html.indexOf("</form>", start);
  return [...html.slice(start, end < 0 ? undefined : end).matchAll(/<input\b[^>]*>/g)].flatMap(([tag]) => {
    const a = attributes(tag);
    const name = a.get("name");
    if (name === undefined) return [];
    return [
      {
        name,
        type: a.get("type") ?? "text",
        value: a.get("value") ?? "",
        checked: a.has("checked"),
        disabled: a.has("disabled"),
      },
    ];
  });
}

/** What the browser sends for the form untouched: hidden and text fields, and boxes that are ticked. */
export function renderedForm(html: string, form: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of renderedInputs(html, form)) {
    if (i.disabled) continue;
    if ((i.type === "checkbox" || i.type === "radio") && !i.checked) continue;
    out[i.name] = i.type === "checkbox" && i.value === "" ? "on" : i.value;
  }
  return out;
}
