import { invalidParameter } from "@cloudforet/errors";

/** The platform's own types: provider-neutral, in every domain, not deletable. */
export const builtinTypes = [
  { group: "compute", name: "Instance" },
  { group: "compute", name: "Disk" },
  { group: "compute", name: "Network" },
] as const;

const segment = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const providerPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface TypeName {
  key: string;
  group: string;
  name: string;
}

/**
 * A type is named "<group>.<name>" ("compute.Instance"). Callers give either the key or the
 * group and name; when they give both they must agree.
 */
export function resolveTypeName(input: { key: string; group: string; name: string }): TypeName {
  let { group, name } = input;
  if (input.key) {
    const parts = input.key.split(".");
    if (parts.length !== 2) {
      throw invalidParameter("Cloud service type key must be <group>.<name>", { parameter: "key", value: input.key });
    }
    const [keyGroup, keyName] = parts;
    if ((group && group !== keyGroup) || (name && name !== keyName)) {
      throw invalidParameter("key disagrees with group and name", { parameter: "key", value: input.key });
    }
    group = keyGroup;
    name = keyName;
  }
  if (!group) throw invalidParameter("Missing required field", { parameter: "group" });
  if (!name) throw invalidParameter("Missing required field", { parameter: "name" });
  if (!segment.test(group)) throw invalidParameter("group must be a letter then letters, digits, _ or -", { parameter: "group", value: group });
  if (!segment.test(name)) throw invalidParameter("name must be a letter then letters, digits, _ or -", { parameter: "name", value: name });
  return { key: `${group}.${name}`, group, name };
}

/** Empty means provider-neutral; otherwise a lower-case slug such as "nutanix". */
export function validateProvider(provider: string): string {
  if (provider && !providerPattern.test(provider)) {
    throw invalidParameter("provider must be lower-case letters, digits, _ or -", { parameter: "provider", value: provider });
  }
  return provider;
}
