import { InvalidEventError } from "./event-errors";

const TOKEN = /^[^\s.*>]+$/;

/** A concrete subject: dot-separated non-empty tokens, no wildcards, no whitespace. */
export function assertEventSubject(subject: string): void {
  if (typeof subject !== "string" || !subject.split(".").every((token) => TOKEN.test(token))) {
    throw new InvalidEventError(`invalid event subject ${JSON.stringify(subject)}`);
  }
}

/** A subscription pattern: tokens, `*` for one token, `>` as the last token for one or more. */
export function assertSubjectPattern(pattern: string): void {
  const tokens = typeof pattern === "string" ? pattern.split(".") : [];
  const valid =
    tokens.length > 0 &&
    tokens.every((token, i) => TOKEN.test(token) || token === "*" || (token === ">" && i === tokens.length - 1));
  if (!valid) throw new InvalidEventError(`invalid subject pattern ${JSON.stringify(pattern)}`);
}

/** NATS subject matching: `*` matches exactly one token, a trailing `>` one or more. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split(".");
  const got = subject.split(".");
  for (let i = 0; i < want.length; i++) {
    if (want[i] === ">") return got.length > i;
    if (i >= got.length) return false;
    if (want[i] !== "*" && want[i] !== got[i]) return false;
  }
  return want.length === got.length;
}
