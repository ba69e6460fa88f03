// Date formatters, built once and reused. Building an Intl.DateTimeFormat costs about 0.35 ms, and its ICU object
// lives outside the JavaScript heap, where the garbage collector does not see its size: one built per date shown
// (30 on a statement page) made pages slow and the server's RSS climb by about 19 KB a date, never given back
// (docs/performance.md). The keys come from code and the configured time zone, so only a handful exist; the
// cache is bounded all the same, so no input can grow it without limit.
const MAX_FORMATTERS = 64;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** A shared `new Intl.DateTimeFormat(locale, options)`; the same options give back the same formatter. */
export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options);
    if (formatters.size >= MAX_FORMATTERS) formatters.delete(formatters.keys().next().value!);
    formatters.set(key, f);
  }
  return f;
}

/** How many formatters are kept (for the test that the cache stays bounded). */
export function cachedFormatterCount() {
  return formatters.size;
}
