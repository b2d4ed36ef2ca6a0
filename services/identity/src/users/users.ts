import { authenticateFailure, invalidParameter, missingParameter, notFound, permissionDenied } from "@cloudforet/errors";
import { mergeTags, validateTags, type QueryInput } from "@cloudforet/query";
import type { Access } from "../access/access";
import type { LoginThrottle } from "../auth/login-throttle";
import { hashPassword, verifyPassword } from "../crypto/password-hash";
import type { EntityState, RoleName } from "../db/schema";
import { required, validName, validPassword, validUserId } from "../fields/field-rules";
import type { WorkspaceRules } from "../workspaces/workspaces";
import type { Binding, UserRepository, UserWithBindings } from "./repository";

/** A role binding as the wire gives it: the role's name ("NONE" or unknown names are refused). */
export interface BindingInput {
  role: string | undefined;
  workspaceId: string;
}

export interface CreateUserInput {
  userId: string;
  password: string;
  name: string;
  email: string;
  roleBindings: BindingInput[];
  tags: Record<string, string>;
}

export interface UpdateUserInput {
  userId: string;
  name?: string;
  email?: string;
  state?: EntityState;
  tags: Record<string, string>;
  removeTags: string[];
}

const roles: RoleName[] = ["DOMAIN_ADMIN", "WORKSPACE_OWNER", "WORKSPACE_MEMBER"];
const emailPattern = /^[^\s@]+@[^\s@]+$/;

/**
 * Users of the caller's domain. DOMAIN_ADMIN manages everyone; a WORKSPACE_OWNER manages the
 * bindings of its workspace; everybody may read and re-password itself. Users the caller cannot see
 * (another domain's, or sharing no workspace with a non-admin) answer NOT_FOUND.
 */
export class UserRules {
  constructor(
    private readonly users: UserRepository,
    private readonly workspaces: WorkspaceRules,
    private readonly throttle: LoginThrottle,
  ) {}

  async create(access: Access, input: CreateUserInput): Promise<UserWithBindings> {
    access.requireAdmin("Creating a user");
    const userId = validUserId(input.userId);
    const password = input.password ? validPassword(input.password) : "";
    const bindings: Binding[] = [];
    for (const [i, binding] of input.roleBindings.entries()) {
      bindings.push(await this.binding(access.domainId, binding, `role_bindings[${i}]`));
    }
    return this.users.create({
      domainId: access.domainId,
      userId,
      passwordHash: password ? await hashPassword(password) : null,
      name: validName(input.name, "name", false),
      email: validEmail(input.email),
      tags: validateTags(input.tags),
      bindings,
    });
  }

  /** A user the caller may see; an empty id means the caller itself. */
  async get(access: Access, userId: string): Promise<UserWithBindings> {
    userId ||= access.userId;
    const found = await this.users.get(access.domainId, userId);
    if (!found || !canSee(access, found)) throw notFound("User not found", { user_id: userId });
    return found;
  }

  list(access: Access, query: QueryInput) {
    const visible = access.visibleWorkspaces();
    return this.users.list(access.domainId, query, visible ? { self: access.userId, visible } : undefined);
  }

  async update(access: Access, input: UpdateUserInput): Promise<UserWithBindings> {
    await this.get(access, required(input.userId, "user_id"));
    access.requireAdmin("Updating a user");
    const name = input.name === undefined ? undefined : validName(input.name, "name", false);
    const email = input.email === undefined ? undefined : validEmail(input.email);
    validateTags(input.tags);
    const updated = await this.users.update(access.domainId, input.userId, {
      name,
      email,
      state: input.state,
      tags: (current) => mergeTags(current, input.tags, input.removeTags),
    });
    if (!updated) throw notFound("User not found", { user_id: input.userId });
    return updated;
  }

  async delete(access: Access, userId: string): Promise<void> {
    await this.get(access, required(userId, "user_id"));
    access.requireAdmin("Deleting a user");
    if (!(await this.users.delete(access.domainId, userId))) throw notFound("User not found", { user_id: userId });
  }

  /** Admins set anyone's password; users their own, proving the current one (`address`: the caller's peer, for throttling). */
  async setPassword(access: Access, input: { userId: string; password: string; currentPassword: string }, address: string): Promise<UserWithBindings> {
    const userId = input.userId || access.userId;
    const target = await this.get(access, userId);
    const self = userId === access.userId;
    if (!access.isAdmin && !self) throw permissionDenied("Only DOMAIN_ADMIN may set another user's password", { user_id: userId });
    const password = validPassword(required(input.password, "password"));
    if (!access.isAdmin) {
      if (!input.currentPassword) throw missingParameter("current_password");
      // Guessing the current password with a stolen token is guessing a login: the same counters.
      const attempt = await this.throttle.attempt({ domainId: access.domainId, userId }, address);
      if (!(await verifyPassword(input.currentPassword, target.user.passwordHash))) {
        await attempt.failed();
        throw authenticateFailure("Current password is wrong", { user_id: userId });
      }
      await attempt.succeeded();
    }
    const updated = await this.users.setPassword(access.domainId, userId, await hashPassword(password));
    if (!updated) throw notFound("User not found", { user_id: userId });
    return updated;
  }

  async addRoleBinding(access: Access, input: { userId: string } & BindingInput): Promise<UserWithBindings> {
    required(input.userId, "user_id");
    const binding = await this.binding(access.domainId, input, "");
    requireBindingManager(access, binding);
    const updated = await this.users.addBinding(access.domainId, input.userId, binding);
    if (!updated) throw notFound("User not found", { user_id: input.userId });
    return updated;
  }

  async removeRoleBinding(access: Access, input: { userId: string } & BindingInput): Promise<UserWithBindings> {
    required(input.userId, "user_id");
    const binding = bindingShape(input, "");
    requireBindingManager(access, binding);
    const user = await this.users.get(access.domainId, input.userId);
    if (!user) throw notFound("User not found", { user_id: input.userId });
    if ((await this.users.removeBinding(access.domainId, input.userId, binding)) === "missing") {
      throw notFound("Role binding not found", { user_id: input.userId, role: binding.role, workspace_id: binding.workspaceId });
    }
    const updated = await this.users.get(access.domainId, input.userId);
    if (!updated) throw notFound("User not found", { user_id: input.userId });
    return updated;
  }

  /** A valid binding whose workspace exists in the domain. */
  private async binding(domainId: string, input: BindingInput, prefix: string): Promise<Binding> {
    const binding = bindingShape(input, prefix);
    if (binding.workspaceId) await this.workspaces.existing(domainId, binding.workspaceId, param(prefix, "workspace_id"));
    return binding;
  }
}

const param = (prefix: string, field: string) => (prefix ? `${prefix}.${field}` : field);

/** Role NONE or unknown → INVALID_ARGUMENT; DOMAIN_ADMIN has no workspace, workspace roles need one. */
function bindingShape(input: BindingInput, prefix: string): Binding {
  const role = roles.find((r) => r === input.role);
  if (!role) throw invalidParameter("role must be DOMAIN_ADMIN, WORKSPACE_OWNER or WORKSPACE_MEMBER", { parameter: param(prefix, "role"), value: input.role ?? "" });
  if (role === "DOMAIN_ADMIN") {
    if (input.workspaceId) throw invalidParameter("DOMAIN_ADMIN covers the whole domain: workspace_id must be empty", { parameter: param(prefix, "workspace_id"), value: input.workspaceId });
    return { role, workspaceId: "" };
  }
  if (!input.workspaceId) throw missingParameter(param(prefix, "workspace_id"));
  return { role, workspaceId: input.workspaceId };
}

/** DOMAIN_ADMIN bindings are the admin's to grant; workspace bindings also the workspace's owner's. */
function requireBindingManager(access: Access, binding: Binding): void {
  const allowed = binding.role === "DOMAIN_ADMIN" ? access.isAdmin : access.isOwnerOf(binding.workspaceId);
  if (!allowed) {
    throw permissionDenied("Managing this role binding needs DOMAIN_ADMIN or WORKSPACE_OWNER of the workspace", {
      role: binding.role,
      workspace_id: binding.workspaceId,
    });
  }
}

function canSee(access: Access, found: UserWithBindings): boolean {
  if (access.isAdmin || found.user.userId === access.userId) return true;
  const mine = new Set(access.workspaceIds);
  return found.bindings.some((b) => b.workspaceId && mine.has(b.workspaceId));
}

function validEmail(email: string): string {
  if (email && (email.length > 255 || !emailPattern.test(email))) throw invalidParameter("email is not an e-mail address", { parameter: "email", value: email.slice(0, 80) });
  return email;
}
