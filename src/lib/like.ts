/** `s` as literal text inside a LIKE pattern (PostgreSQL's default escape character is the backslash). */
export const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
