/**
 * A LIKE pattern matching `text` anywhere, with `\`, `%` and `_` escaped so they match
 * themselves (backslash is Postgres's default LIKE escape).
 */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}
