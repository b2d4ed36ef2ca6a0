import type { JsonObject } from "@bufbuild/protobuf";
import {
  Enrollment_Status,
  EnrollmentService,
  Plugin_Kind,
  Plugin_RoutingMode,
  PluginAliasService,
  PluginEndpoint_Health,
  PluginService,
  type Enrollment,
  type Plugin,
  type PluginAlias,
  type PluginServiceResolveResponse,
  type PluginVersion,
} from "@cloudforet/proto/cloudforet/inventory/v1/plugin_pb";
import { Pager, type ListQuery } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

export { Enrollment_Status as EnrollmentStatus, Plugin_Kind as PluginKind, Plugin_RoutingMode as PluginRoutingMode, PluginEndpoint_Health as PluginEndpointHealth };

/** Seed 001's `register` keywords, camelCased. */
export interface PluginRegisterInput {
  /** Client-chosen id such as "plugin-nutanix"; unset lets the server generate `plugin-<random>`. */
  pluginId?: string;
  name: string;
  /** Default COLLECTOR. */
  kind?: Plugin_Kind;
  /** Default WEIGHTED. */
  routingMode?: Plugin_RoutingMode;
  tags?: Record<string, string>;
}

/** What `update` changes: name and routing mode replace, tags merge, `removeTags` drops keys. */
export interface PluginChanges {
  name?: string;
  routingMode?: Plugin_RoutingMode;
  tags?: Record<string, string>;
  removeTags?: string[];
}

/** One endpoint of a version: its base URL and (WEIGHTED) share; weight defaults to 1. */
export interface PluginEndpointInput {
  url: string;
  weight?: number;
}

/** What Resolve answers: the version and endpoint a call would use now, and why. */
export type PluginResolution = PluginServiceResolveResponse;

/** Seed 001's enrollment `create` keywords, camelCased. */
export interface EnrollmentInput {
  pluginId: string;
  /** A version or an alias; unset means the alias "stable", else the newest version. */
  version?: string;
  /** Passed to the plugin's Verify (secret-shaped keys as its secret_data); masked on every read. */
  parameters?: JsonObject;
  /** Unset enrolls into the domain (DOMAIN_ADMIN only). */
  workspaceId?: string;
}

export interface EnrollmentWaitOptions extends RequestOptions {
  /** How long to wait for the enrollment to leave PENDING (default 60 s), calls included. */
  timeoutMs?: number;
  /** Between two reads (default 200 ms). */
  intervalMs?: number;
}

type Callers = {
  plugins: ServiceCaller<typeof PluginService>;
  aliases: ServiceCaller<typeof PluginAliasService>;
  enrollments: ServiceCaller<typeof EnrollmentService>;
};

/**
 * The plugin registry (seed 001 `client.plugins`, inventory's PluginService): plugins, their versions
 * and endpoints, the dry-run `resolve`, and under it `aliases` and `enrollments`.
 */
export class Plugins {
  /** Names for versions ("stable" → "1.4.2"), switched atomically. */
  readonly aliases: PluginAliases;
  /** Enrollments of plugins into the domain or a workspace (also `client.enrollments`). */
  readonly enrollments: Enrollments;
  private readonly rpc: ServiceCaller<typeof PluginService>;

  constructor(callers: Callers) {
    this.rpc = callers.plugins;
    this.aliases = new PluginAliases(callers.aliases);
    this.enrollments = new Enrollments(callers.enrollments);
  }

  async register(input: PluginRegisterInput, request?: RequestOptions): Promise<Plugin> {
    const r = await this.rpc.call(
      (c, o) => c.register({ pluginId: input.pluginId ?? "", name: input.name, kind: input.kind, routingMode: input.routingMode, tags: input.tags ?? {} }, o),
      request,
    );
    return required(r.plugin, "plugin");
  }

  /** The plugin with its versions (newest first), their endpoints' health, and its aliases. */
  async get(pluginId: string, request?: RequestOptions): Promise<Plugin> {
    return required((await this.rpc.call((c, o) => c.get({ pluginId }, o), request)).plugin, "plugin");
  }

  /** Plugins of the domain, paged (results carry no versions or aliases; `get` has them). */
  list(query?: ListQuery, request?: RequestOptions): Pager<Plugin> {
    return new Pager(
      async (q, o) => {
        const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
        return { items: r.results, totalCount: r.totalCount };
      },
      query,
      request,
    );
  }

  async update(pluginId: string, changes: PluginChanges, request?: RequestOptions): Promise<Plugin> {
    const r = await this.rpc.call(
      (c, o) => c.update({ pluginId, name: changes.name, routingMode: changes.routingMode, tags: changes.tags ?? {}, removeTags: changes.removeTags ?? [] }, o),
      request,
    );
    return required(r.plugin, "plugin");
  }

  /** Deletes the plugin with its versions and aliases; refused while a collector or a live enrollment uses it. */
  async delete(pluginId: string, request?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ pluginId }, o), request);
  }

  async addVersion(pluginId: string, version: string, endpoints: PluginEndpointInput[], request?: RequestOptions): Promise<PluginVersion> {
    const r = await this.rpc.call((c, o) => c.addVersion({ pluginId, version, endpoints: endpoints.map((e) => ({ url: e.url, weight: e.weight ?? 0 })) }, o), request);
    return required(r.version, "version");
  }

  /** Refused while an alias names the version. */
  async removeVersion(pluginId: string, version: string, request?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.removeVersion({ pluginId, version }, o), request);
  }

  /** Dry run: the version (or alias's version) and endpoint a call would use now, and why; calls nothing. */
  async resolve(pluginId: string, version = "", request?: RequestOptions): Promise<PluginResolution> {
    return this.rpc.call((c, o) => c.resolve({ pluginId, version }, o), request);
  }
}

/** What `switch` answers: the alias now, and the version it named before. */
export interface AliasSwitch {
  alias: PluginAlias;
  previousVersion: string;
}

/** Aliases of plugin versions (PluginAliasService). */
export class PluginAliases {
  constructor(private readonly rpc: ServiceCaller<typeof PluginAliasService>) {}

  async create(pluginId: string, name: string, version: string, request?: RequestOptions): Promise<PluginAlias> {
    return required((await this.rpc.call((c, o) => c.create({ pluginId, name, version }, o), request)).alias, "alias");
  }

  /** Points the alias at another version; collectors naming it use that version from their next call. */
  async switch(pluginId: string, name: string, version: string, request?: RequestOptions): Promise<AliasSwitch> {
    const r = await this.rpc.call((c, o) => c.switch({ pluginId, name, version }, o), request);
    return { alias: required(r.alias, "alias"), previousVersion: r.previousVersion };
  }

  /** Aliases of one plugin, or (pluginId unset) of every plugin of the domain, paged. */
  list(pluginId = "", query?: ListQuery, request?: RequestOptions): Pager<PluginAlias> {
    return new Pager(
      async (q, o) => {
        const r = await this.rpc.call((c, co) => c.list({ pluginId, query: q }, co), o);
        return { items: r.results, totalCount: r.totalCount };
      },
      query,
      request,
    );
  }

  /** Refused while a collector references the alias. */
  async delete(pluginId: string, name: string, request?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ pluginId, name }, o), request);
  }
}

/**
 * Enrollments (EnrollmentService): `create` answers at once with PENDING; a worker then calls the
 * plugin's Verify and the enrollment becomes ACTIVE or FAILED (with `reason`). `refresh` re-reads
 * it (seed 001's `enr.refresh()`); `waitUntilSettled` polls until it is no longer PENDING.
 */
export class Enrollments {
  constructor(private readonly rpc: ServiceCaller<typeof EnrollmentService>) {}

  async create(input: EnrollmentInput, request?: RequestOptions): Promise<Enrollment> {
    const r = await this.rpc.call(
      (c, o) => c.create({ pluginId: input.pluginId, version: input.version ?? "", parameters: input.parameters, workspaceId: input.workspaceId ?? "" }, o),
      request,
    );
    return required(r.enrollment, "enrollment");
  }

  async get(enrollmentId: string, request?: RequestOptions): Promise<Enrollment> {
    return required((await this.rpc.call((c, o) => c.get({ enrollmentId }, o), request)).enrollment, "enrollment");
  }

  /** The enrollment as it is now (seed 001's `refresh()`). */
  refresh(enrollmentId: string, request?: RequestOptions): Promise<Enrollment> {
    return this.get(enrollmentId, request);
  }

  list(query?: ListQuery, request?: RequestOptions): Pager<Enrollment> {
    return new Pager(
      async (q, o) => {
        const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
        return { items: r.results, totalCount: r.totalCount };
      },
      query,
      request,
    );
  }

  /** Sets CANCELLED; refused (ConflictError) when it already is. */
  async cancel(enrollmentId: string, request?: RequestOptions): Promise<Enrollment> {
    return required((await this.rpc.call((c, o) => c.cancel({ enrollmentId }, o), request)).enrollment, "enrollment");
  }

  /**
   * Re-reads the enrollment every `intervalMs` (default 200) until it is no longer PENDING, then
   * returns it (ACTIVE, FAILED with its `reason`, or CANCELLED). Throws after `timeoutMs` (default 60 s)
   * or when `signal` aborts.
   */
  async waitUntilSettled(enrollmentId: string, options: EnrollmentWaitOptions = {}): Promise<Enrollment> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    const read = () => this.get(enrollmentId, { ...options, timeoutMs: Math.max(1, Math.min(30_000, deadline - Date.now())) });
    let enrollment = await read();
    while (enrollment.status === Enrollment_Status.PENDING) {
      if (Date.now() >= deadline) throw new Error(`enrollment ${enrollmentId} was still PENDING after ${timeoutMs} ms`);
      options.signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
      enrollment = await read();
    }
    return enrollment;
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the server returned no ${what}`);
  return value;
}
