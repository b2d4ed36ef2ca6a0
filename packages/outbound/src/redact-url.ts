/**
 * Removes `user:pass@` from a URL (or from every URL in a text) so credentials never reach a log
 * line, an error or an instance's text.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return redactUrlsIn(url);
  }
}

/** Strips userinfo from anything URL-shaped inside free text. */
export function redactUrlsIn(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, "$1");
}
