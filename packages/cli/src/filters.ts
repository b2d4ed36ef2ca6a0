import type { FilterInput } from "@cloudforet/sdk";
import { UsageError } from "./cli-error";

/** `--filter` operators, longest first so `!=` is not read as `=`. */
const OPERATORS: [symbol: string, operator: string][] = [
  ["!=", "not"],
  [">=", "gte"],
  ["<=", "lte"],
  ["!~", "not_contain"],
  ["=", "eq"],
  [">", "gt"],
  ["<", "lt"],
  ["~", "contain"],
];

const NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * One `--filter` expression of the query language (SPEC §5): `k=v` (eq), `k!=v` (not),
 * `k>v`, `k>=v`, `k<v`, `k<=v`, `k~v` (contains), `k!~v` (does not contain); `k=a|b` is `in`.
 * Values stay strings (the services compare them with text, numbers and dates alike), except
 * that ordering operators send numbers as numbers so `data.cpu_cores>4` compares numerically.
 */
export function parseFilter(expression: string, command: string): FilterInput {
  const at = expression.search(/[!=<>~]/);
  if (at <= 0) throw new UsageError(`--filter "${expression}" must look like key=value (or !=, >, >=, <, <=, ~, !~)`, command);
  const key = expression.slice(0, at).trim();
  const rest = expression.slice(at);
  const match = OPERATORS.find(([symbol]) => rest.startsWith(symbol));
  if (!match || !/^[A-Za-z_][\w.-]*$/.test(key)) throw new UsageError(`--filter "${expression}" must look like key=value (or !=, >, >=, <, <=, ~, !~)`, command);
  const [symbol, operator] = match;
  const value = rest.slice(symbol.length);
  if (operator === "eq" && value.includes("|")) return { k: key, o: "in", v: value.split("|") };
  if (["gt", "gte", "lt", "lte"].includes(operator) && NUMBER.test(value)) return { k: key, o: operator, v: Number(value) };
  return { k: key, o: operator, v: value };
}

/** `--sort key` ascending, `--sort -key` descending. */
export function parseSort(value: string | undefined): { key: string; desc: boolean } | undefined {
  if (!value) return undefined;
  return value.startsWith("-") ? { key: value.slice(1), desc: true } : { key: value, desc: false };
}
