import { sql, type SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";

const dialect = new PgDialect();

/** A statement's fixed text with a hole for each named value, filled by a call. */
export type StatementTemplate<Name extends string> = (values: Record<Name, unknown>) => SQL;

/**
 * A statement whose text never changes, only its values: `build` is rendered through Drizzle once,
 * and each call binds its values into the kept text. A large statement built from many fragments
 * (the collection writes' CTEs) cost more CPU to render on every call than the database spent
 * running it. `build` gets one placeholder per name and must use each as a plain value (no column
 * encoder); a value may appear more than once. Other parameters of the text are constants, bound
 * as rendered.
 */
export function statementTemplate<Name extends string>(names: readonly Name[], build: (holes: Record<Name, SQL>) => SQL): StatementTemplate<Name> {
  const markers = names.map((name) => ({ name }));
  const rendered = dialect.sqlToQuery(build(Object.fromEntries(markers.map((marker) => [marker.name, sql`${marker}`])) as Record<Name, SQL>));
  const pieces = rendered.sql.split(/\$(\d+)\b/);
  // pieces: text, index, text, index, …, text
  // Each parameter is a named value, or a constant of the text (bound as it was rendered).
  const holes: Array<{ name: Name } | { constant: unknown }> = [];
  for (let i = 1; i < pieces.length; i += 2) {
    const param = rendered.params[Number(pieces[i]) - 1];
    const marker = markers.find((m) => m === param);
    holes.push(marker ? { name: marker.name } : { constant: param });
  }
  if (holes.length !== rendered.params.length) throw new Error("statementTemplate: the rendered text and its parameters disagree");
  const texts = pieces.filter((_, i) => i % 2 === 0).map((text) => sql.raw(text));
  return (values) => {
    const chunks: SQL[] = [texts[0]];
    holes.forEach((hole, i) => chunks.push(sql`${"name" in hole ? values[hole.name] : hole.constant}`, texts[i + 1]));
    return sql.join(chunks);
  };
}
