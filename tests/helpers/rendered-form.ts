// Reads a form as the page rendered it, so a test sends what the browser would: every input's value (hidden
// fields included) and each select's chosen option (the selected one, else the first, as a browser does).
// Tests then change only the fields a person would type into.

const decodeEntities = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

const attr = (tag: string, name: string) => {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? decodeEntities(m[1]!) : undefined;
};

/** The fields of the first form on the page posting to `action`, as the browser would send them untouched. */
export function renderedForm(html: string, action: string): Record<string, string> {
  const forms = html.match(/<form\b[^>]*>[\s\S]*?<\/form>/g) ?? [];
  const form = forms.find((f) => attr(/<form\b[^>]*>/.exec(f)![0], "action") === action);
  if (!form) throw new Error(`no form posting to ${action} on the page`);
  const fields: Record<string, string> = {};
  for (const tag of form.match(/<input\b[^>]*>/g) ?? []) {
    const name = attr(tag, "name");
    const type = attr(tag, "type") ?? "text";
    if (!name || type === "submit" || ((type === "checkbox" || type === "radio") && !/\schecked\b/.test(tag))) continue;
    fields[name] = attr(tag, "value") ?? (type === "checkbox" ? "on" : "");
  }
  for (const select of form.match(/<select\b[^>]*>[\s\S]*?<\/select>/g) ?? []) {
    const name = attr(/<select\b[^>]*>/.exec(select)![0], "name");
    // An option without a value attribute sends its text, as a browser does.
    const options = [...select.matchAll(/(<option\b[^>]*>)([^<]*)/g)].map((o) => ({ tag: o[1]!, text: o[2]! }));
    const chosen = options.find((o) => /\sselected\b/.test(o.tag)) ?? options[0];
    if (name && chosen) fields[name] = attr(chosen.tag, "value") ?? decodeEntities(chosen.text.trim());
  }
  for (const area of form.match(/<textarea\b[^>]*>[\s\S]*?<\/textarea>/g) ?? []) {
    const name = attr(/<textarea\b[^>]*>/.exec(area)![0], "name");
    // As the HTML parser does, one newline right after the start tag is not part of the value.
    if (name) fields[name] = decodeEntities(area.replace(/^<textarea\b[^>]*>\n?|<\/textarea>$/g, ""));
  }
  return fields;
}
