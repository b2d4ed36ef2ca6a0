import { PlatformError } from "@cloudforet/errors";
import type { Owner } from "../access/tenants";
import { permanent, type StepHandler, type StepInvocation } from "../engine/handlers/handler";
import type { Credentials } from "./credentials";

const SCHEME = "credentials://";

/** A reference that cannot be resolved: the step fails permanently (it would never succeed on retry). */
class UnresolvableReference extends Error {}

/**
 * `credentials://<id>` and `credentials://<id>/<field>` strings anywhere in the params of the
 * built-in handlers that call peers (http_request, llm_call, tool_call, recurrent_request) are
 * replaced, just before the call, by the tenant's credential — its value parsed as JSON when it
 * is JSON (a whole object or one field of it), else the raw string — as the engine resolves them.
 * The resolved secret exists only in the call's params: never in the definition, the context, an
 * output or a log. A missing, disabled or field-less reference fails the step permanently.
 */
export class CredentialReferences {
  private readonly wrapped = new Map<string, StepHandler>();

  constructor(private readonly credentials: Credentials) {}

  guard(name: string, handler: StepHandler): StepHandler {
    if (handler.effects !== "external") return handler;
    let guarded = this.wrapped.get(name);
    if (!guarded) {
      guarded = { ...handler, run: (step) => this.run(handler, step) };
      this.wrapped.set(name, guarded);
    }
    return guarded;
  }

  private async run(handler: StepHandler, step: StepInvocation) {
    let params: Record<string, unknown>;
    try {
      params = (await this.resolve({ domainId: step.instance.domainId, tenantId: step.instance.tenantId }, step.params)) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof UnresolvableReference) return permanent(`credentials: ${err.message}`);
      throw err;
    }
    return handler.run({ ...step, params });
  }

  private async resolve(owner: Owner, value: unknown): Promise<unknown> {
    if (typeof value === "string") return value.startsWith(SCHEME) ? this.open(owner, value.slice(SCHEME.length)) : value;
    if (Array.isArray(value)) return Promise.all(value.map((item) => this.resolve(owner, item)));
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = await this.resolve(owner, item);
      return out;
    }
    return value;
  }

  private async open(owner: Owner, reference: string): Promise<unknown> {
    const slash = reference.indexOf("/");
    const id = slash < 0 ? reference : reference.slice(0, slash);
    const field = slash < 0 ? undefined : reference.slice(slash + 1);
    if (id === "") throw new UnresolvableReference("a credentials:// reference names no id");
    let secret: string;
    try {
      secret = await this.credentials.open(owner, id);
    } catch (err) {
      if (err instanceof PlatformError) throw new UnresolvableReference(err.message.includes("disabled") ? `credential '${id}' is disabled` : `no credential registered with id '${id}'`);
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(secret);
    } catch {
      parsed = secret;
    }
    if (field === undefined) return parsed;
    if (parsed === null || typeof parsed !== "object" || !Object.hasOwn(parsed, field)) throw new UnresolvableReference(`credential '${id}' has no field '${field}'`);
    return (parsed as Record<string, unknown>)[field];
  }
}
