// Over 300 lines on purpose: one manager per identity resource (users, workspaces, projects, secrets,
// service accounts, API keys), each a handful of thin typed wrappers users read side by side.
import type { JsonObject, MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ApiKeySchema,
  ApiKeyService,
  type ApiKey,
  type ApiKeyServiceCreateRequestSchema,
} from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { ProjectSchema, ProjectService, type Project, type ProjectServiceCreateRequestSchema } from "@cloudforet/proto/cloudforet/identity/v1/project_pb";
import { SecretSchema, SecretService, type Secret, type SecretServiceCreateRequestSchema } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import {
  ServiceAccountSchema,
  ServiceAccountService,
  type ServiceAccount,
  type ServiceAccountServiceCreateRequestSchema,
} from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { RoleBinding_Role, UserSchema, UserService, type User, type UserServiceCreateRequestSchema } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceSchema, WorkspaceService, type Workspace, type WorkspaceServiceCreateRequestSchema } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { Handle } from "../handle";
import { asEntity, Pager, type ListQuery } from "../pager";
import type { RequestOptions, ServiceCaller } from "../rpc";

/** Changes of a resource's tags: `tags` are set (merged), `removeTags` removed. */
export interface TagChanges {
  tags?: Record<string, string>;
  removeTags?: string[];
}

type Callers = {
  workspaces: ServiceCaller<typeof WorkspaceService>;
  projects: ServiceCaller<typeof ProjectService>;
  users: ServiceCaller<typeof UserService>;
  serviceAccounts: ServiceCaller<typeof ServiceAccountService>;
  apiKeys: ServiceCaller<typeof ApiKeyService>;
  secrets: ServiceCaller<typeof SecretService>;
};

/** The identity service: workspaces, projects, users, service accounts, API keys and secrets. */
export class IdentityManagers {
  readonly workspaces: Workspaces;
  readonly projects: Projects;
  readonly users: Users;
  readonly serviceAccounts: ServiceAccounts;
  readonly apiKeys: ApiKeys;
  readonly secrets: Secrets;

  constructor(callers: Callers) {
    this.workspaces = new Workspaces(callers.workspaces);
    this.projects = new Projects(callers.projects);
    this.users = new Users(callers.users);
    this.serviceAccounts = new ServiceAccounts(callers.serviceAccounts);
    this.apiKeys = new ApiKeys(callers.apiKeys);
    this.secrets = new Secrets(callers.secrets);
  }
}

// ── Workspaces ────────────────────────────────────────────────────────────────

export class WorkspaceHandle extends Handle<Workspace> {
  /** Sets or removes tags. */
  async update(changes: TagChanges, options?: RequestOptions): Promise<this> {
    this.data = await (this.ops as Workspaces).patch(this.id, changes, options);
    return this;
  }
}

export class Workspaces {
  constructor(private readonly rpc: ServiceCaller<typeof WorkspaceService>) {}

  async create(input: MessageInitShape<typeof WorkspaceServiceCreateRequestSchema>, options?: RequestOptions): Promise<WorkspaceHandle> {
    return this.handle(asEntity(WorkspaceSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(workspaceId: string, options?: RequestOptions): Promise<WorkspaceHandle> {
    return this.handle(await this.fetch(workspaceId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<WorkspaceHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((w) => this.handle(w)), totalCount: r.totalCount };
    }, query, options);
  }
  async update(workspaceId: string, changes: TagChanges, options?: RequestOptions): Promise<WorkspaceHandle> {
    return this.handle(await this.patch(workspaceId, changes, options));
  }
  async delete(workspaceId: string, options?: RequestOptions): Promise<void> {
    await this.remove(workspaceId, options);
  }

  /** @internal */
  async fetch(workspaceId: string, options?: RequestOptions): Promise<Workspace> {
    return asEntity(WorkspaceSchema, await this.rpc.call((c, o) => c.get({ workspaceId }, o), options));
  }
  /** @internal */
  async remove(workspaceId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ workspaceId }, o), options);
  }
  /** @internal */
  async patch(workspaceId: string, changes: TagChanges, options?: RequestOptions): Promise<Workspace> {
    return asEntity(WorkspaceSchema, await this.rpc.call((c, o) => c.update({ workspaceId, ...changes }, o), options));
  }
  private handle(w: Workspace): WorkspaceHandle {
    return new WorkspaceHandle(w.workspaceId, w, this);
  }
}

// ── Projects ──────────────────────────────────────────────────────────────────

export class ProjectHandle extends Handle<Project> {
  async update(changes: TagChanges, options?: RequestOptions): Promise<this> {
    this.data = await (this.ops as Projects).patch(this.id, changes, options);
    return this;
  }
}

export class Projects {
  constructor(private readonly rpc: ServiceCaller<typeof ProjectService>) {}

  async create(input: MessageInitShape<typeof ProjectServiceCreateRequestSchema>, options?: RequestOptions): Promise<ProjectHandle> {
    return this.handle(asEntity(ProjectSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(projectId: string, options?: RequestOptions): Promise<ProjectHandle> {
    return this.handle(await this.fetch(projectId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<ProjectHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((p) => this.handle(p)), totalCount: r.totalCount };
    }, query, options);
  }
  async update(projectId: string, changes: TagChanges, options?: RequestOptions): Promise<ProjectHandle> {
    return this.handle(await this.patch(projectId, changes, options));
  }
  async delete(projectId: string, options?: RequestOptions): Promise<void> {
    await this.remove(projectId, options);
  }

  /** @internal */
  async fetch(projectId: string, options?: RequestOptions): Promise<Project> {
    return asEntity(ProjectSchema, await this.rpc.call((c, o) => c.get({ projectId }, o), options));
  }
  /** @internal */
  async remove(projectId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ projectId }, o), options);
  }
  /** @internal */
  async patch(projectId: string, changes: TagChanges, options?: RequestOptions): Promise<Project> {
    return asEntity(ProjectSchema, await this.rpc.call((c, o) => c.update({ projectId, ...changes }, o), options));
  }
  private handle(p: Project): ProjectHandle {
    return new ProjectHandle(p.projectId, p, this);
  }
}

// ── Users ─────────────────────────────────────────────────────────────────────

export type RoleName = keyof typeof RoleBinding_Role;

export class UserHandle extends Handle<User> {
  private get users(): Users {
    return this.ops as Users;
  }
  async update(changes: TagChanges, options?: RequestOptions): Promise<this> {
    this.data = await this.users.patch(this.id, changes, options);
    return this;
  }
  /** Grants a role (in a workspace, for the workspace roles). */
  async addRole(role: RoleName, workspaceId = "", options?: RequestOptions): Promise<this> {
    this.data = await this.users.roleChange("add", this.id, role, workspaceId, options);
    return this;
  }
  async removeRole(role: RoleName, workspaceId = "", options?: RequestOptions): Promise<this> {
    this.data = await this.users.roleChange("remove", this.id, role, workspaceId, options);
    return this;
  }
  /** Sets the password (your own needs `currentPassword`). */
  async setPassword(password: string, currentPassword = "", options?: RequestOptions): Promise<void> {
    await this.users.setPassword(this.id, password, currentPassword, options);
  }
}

export class Users {
  constructor(private readonly rpc: ServiceCaller<typeof UserService>) {}

  async create(input: MessageInitShape<typeof UserServiceCreateRequestSchema>, options?: RequestOptions): Promise<UserHandle> {
    return this.handle(asEntity(UserSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(userId: string, options?: RequestOptions): Promise<UserHandle> {
    return this.handle(await this.fetch(userId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<UserHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((u) => this.handle(u)), totalCount: r.totalCount };
    }, query, options);
  }
  async update(userId: string, changes: TagChanges, options?: RequestOptions): Promise<UserHandle> {
    return this.handle(await this.patch(userId, changes, options));
  }
  async delete(userId: string, options?: RequestOptions): Promise<void> {
    await this.remove(userId, options);
  }
  async setPassword(userId: string, password: string, currentPassword = "", options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.setPassword({ userId, password, currentPassword }, o), options);
  }

  /** @internal */
  async fetch(userId: string, options?: RequestOptions): Promise<User> {
    return asEntity(UserSchema, await this.rpc.call((c, o) => c.get({ userId }, o), options));
  }
  /** @internal */
  async remove(userId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ userId }, o), options);
  }
  /** @internal */
  async patch(userId: string, changes: TagChanges, options?: RequestOptions): Promise<User> {
    return asEntity(UserSchema, await this.rpc.call((c, o) => c.update({ userId, ...changes }, o), options));
  }
  /** @internal */
  async roleChange(kind: "add" | "remove", userId: string, role: RoleName, workspaceId: string, options?: RequestOptions): Promise<User> {
    const input = { userId, role: RoleBinding_Role[role], workspaceId };
    const r: object =
      kind === "add"
        ? await this.rpc.call((c, o) => c.addRoleBinding(input, o), options)
        : await this.rpc.call((c, o) => c.removeRoleBinding(input, o), options);
    return asEntity(UserSchema, r);
  }
  private handle(u: User): UserHandle {
    return new UserHandle(u.userId, u, this);
  }
}

// ── Service accounts ──────────────────────────────────────────────────────────

export class ServiceAccountHandle extends Handle<ServiceAccount> {
  async update(changes: TagChanges & { data?: JsonObject }, options?: RequestOptions): Promise<this> {
    this.data = await (this.ops as ServiceAccounts).patch(this.id, changes, options);
    return this;
  }
}

export class ServiceAccounts {
  constructor(private readonly rpc: ServiceCaller<typeof ServiceAccountService>) {}

  async create(input: MessageInitShape<typeof ServiceAccountServiceCreateRequestSchema>, options?: RequestOptions): Promise<ServiceAccountHandle> {
    return this.handle(asEntity(ServiceAccountSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  async get(serviceAccountId: string, options?: RequestOptions): Promise<ServiceAccountHandle> {
    return this.handle(await this.fetch(serviceAccountId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<ServiceAccountHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((s) => this.handle(s)), totalCount: r.totalCount };
    }, query, options);
  }
  async update(serviceAccountId: string, changes: TagChanges & { data?: JsonObject }, options?: RequestOptions): Promise<ServiceAccountHandle> {
    return this.handle(await this.patch(serviceAccountId, changes, options));
  }
  async delete(serviceAccountId: string, options?: RequestOptions): Promise<void> {
    await this.remove(serviceAccountId, options);
  }

  /** @internal */
  async fetch(serviceAccountId: string, options?: RequestOptions): Promise<ServiceAccount> {
    return asEntity(ServiceAccountSchema, await this.rpc.call((c, o) => c.get({ serviceAccountId }, o), options));
  }
  /** @internal */
  async remove(serviceAccountId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ serviceAccountId }, o), options);
  }
  /** @internal */
  async patch(serviceAccountId: string, changes: TagChanges & { data?: JsonObject }, options?: RequestOptions): Promise<ServiceAccount> {
    return asEntity(ServiceAccountSchema, await this.rpc.call((c, o) => c.update({ serviceAccountId, ...changes }, o), options));
  }
  private handle(s: ServiceAccount): ServiceAccountHandle {
    return new ServiceAccountHandle(s.serviceAccountId, s, this);
  }
}

// ── API keys ──────────────────────────────────────────────────────────────────

export class ApiKeyHandle extends Handle<ApiKey> {
  /** Revokes the key at once (idempotent). */
  async revoke(options?: RequestOptions): Promise<this> {
    this.data = await (this.ops as ApiKeys).revokeKey(this.id, options);
    return this;
  }
}

/** A new key: the handle plus its plaintext, which no later call returns. */
export interface CreatedApiKey {
  key: ApiKeyHandle;
  /** The plaintext key (`cfk_…`): store it now. */
  apiKey: string;
}

export class ApiKeys {
  constructor(private readonly rpc: ServiceCaller<typeof ApiKeyService>) {}

  /** Creates a key (of `userId`, default the caller); the plaintext comes back once, in `apiKey`. */
  async create(input: MessageInitShape<typeof ApiKeyServiceCreateRequestSchema>, options?: RequestOptions): Promise<CreatedApiKey> {
    const r = await this.rpc.call((c, o) => c.create(input, o), options);
    return { key: this.handle(asEntity(ApiKeySchema, r)), apiKey: r.apiKey };
  }
  async get(apiKeyId: string, options?: RequestOptions): Promise<ApiKeyHandle> {
    return this.handle(await this.fetch(apiKeyId, options));
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<ApiKeyHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((k) => this.handle(k)), totalCount: r.totalCount };
    }, query, options);
  }
  async revoke(apiKeyId: string, options?: RequestOptions): Promise<ApiKeyHandle> {
    return this.handle(await this.revokeKey(apiKeyId, options));
  }
  async delete(apiKeyId: string, options?: RequestOptions): Promise<void> {
    await this.remove(apiKeyId, options);
  }

  /** @internal */
  async fetch(apiKeyId: string, options?: RequestOptions): Promise<ApiKey> {
    return asEntity(ApiKeySchema, await this.rpc.call((c, o) => c.get({ apiKeyId }, o), options));
  }
  /** @internal */
  async remove(apiKeyId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ apiKeyId }, o), options);
  }
  /** @internal */
  async revokeKey(apiKeyId: string, options?: RequestOptions): Promise<ApiKey> {
    return asEntity(ApiKeySchema, await this.rpc.call((c, o) => c.revoke({ apiKeyId }, o), options));
  }
  private handle(k: ApiKey): ApiKeyHandle {
    return new ApiKeyHandle(k.apiKeyId, k, this);
  }
}

// ── Secrets ───────────────────────────────────────────────────────────────────

export class SecretHandle extends Handle<Secret> {
  /** The decrypted value (seed 000 "Fetch Secret"). */
  async getData(options?: RequestOptions): Promise<JsonObject> {
    return (this.ops as Secrets).getData(this.id, options);
  }
}

export interface SecretSetOptions {
  workspaceId?: string;
  tags?: Record<string, string>;
  expiresAt?: Date;
}

export class Secrets {
  constructor(private readonly rpc: ServiceCaller<typeof SecretService>) {}

  async create(input: MessageInitShape<typeof SecretServiceCreateRequestSchema>, options?: RequestOptions): Promise<SecretHandle> {
    return this.handle(asEntity(SecretSchema, await this.rpc.call((c, o) => c.create(input, o), options)));
  }
  /** Creates the secret `name` or replaces its value (idempotent upsert by name, seed 001). */
  async set(name: string, value: JsonObject, settings: SecretSetOptions = {}, options?: RequestOptions): Promise<SecretHandle> {
    const r = await this.rpc.call(
      (c, o) =>
        c.set(
          {
            name,
            data: value,
            tags: settings.tags ?? {},
            workspaceId: settings.workspaceId ?? "",
            expiresAt: settings.expiresAt ? timestampFromDate(settings.expiresAt) : undefined,
          },
          o,
        ),
      options,
    );
    return this.handle(asEntity(SecretSchema, r));
  }
  /** The secret's metadata (never its value). */
  async get(secretId: string, options?: RequestOptions): Promise<SecretHandle> {
    return this.handle(await this.fetch(secretId, options));
  }
  /** The decrypted value. */
  async getData(secretId: string, options?: RequestOptions): Promise<JsonObject> {
    const r = await this.rpc.call((c, o) => c.getData({ secretId }, o), options);
    return r.data ?? {};
  }
  list(query?: ListQuery, options?: RequestOptions): Pager<SecretHandle> {
    return new Pager(async (q, o) => {
      const r = await this.rpc.call((c, co) => c.list({ query: q }, co), o);
      return { items: r.results.map((s) => this.handle(s)), totalCount: r.totalCount };
    }, query, options);
  }
  async delete(secretId: string, options?: RequestOptions): Promise<void> {
    await this.remove(secretId, options);
  }

  /** @internal */
  async fetch(secretId: string, options?: RequestOptions): Promise<Secret> {
    return asEntity(SecretSchema, await this.rpc.call((c, o) => c.get({ secretId }, o), options));
  }
  /** @internal */
  async remove(secretId: string, options?: RequestOptions): Promise<void> {
    await this.rpc.call((c, o) => c.delete({ secretId }, o), options);
  }
  private handle(s: Secret): SecretHandle {
    return new SecretHandle(s.secretId, s, this);
  }
}
