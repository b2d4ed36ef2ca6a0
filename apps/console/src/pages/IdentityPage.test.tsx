// @vitest-environment jsdom
import { ApiKey_State, ApiKeyService } from "@cloudforet/proto/cloudforet/identity/v1/api_key_pb";
import { SecretService } from "@cloudforet/proto/cloudforet/identity/v1/secret_pb";
import { ServiceAccountService } from "@cloudforet/proto/cloudforet/identity/v1/service_account_pb";
import { RoleBinding_Role, UserService } from "@cloudforet/proto/cloudforet/identity/v1/user_pb";
import { WorkspaceService } from "@cloudforet/proto/cloudforet/identity/v1/workspace_pb";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { renderSignedIn } from "../test/signed-in";

afterEach(cleanup);

const SECRET_KEY = "cfk_live_0123456789abcdef";

describe("Identity page", () => {
  it("shows workspaces, users with their role bindings, service accounts and secrets' metadata (never values)", async () => {
    let secretDataAsked = 0;
    const user = await renderSignedIn("/identity", (router) => {
      router.service(WorkspaceService, { list: () => ({ results: [{ workspaceId: "ws-prod", name: "Production", tags: { team: "ops" } }], totalCount: 1 }) });
      router.service(UserService, {
        list: () => ({
          results: [{ userId: "alice", name: "Alice", roleBindings: [{ role: RoleBinding_Role.DOMAIN_ADMIN }, { role: RoleBinding_Role.WORKSPACE_MEMBER, workspaceId: "ws-prod" }] }],
          totalCount: 1,
        }),
      });
      router.service(ServiceAccountService, { list: () => ({ results: [{ serviceAccountId: "sa-1", name: "prod cluster", provider: "nutanix", secretId: "sec-1" }], totalCount: 1 }) });
      router.service(SecretService, {
        list: () => ({ results: [{ secretId: "sec-1", name: "nutanix-prod", serviceAccountId: "sa-1" }], totalCount: 1 }),
        getData: () => (secretDataAsked++, { data: { password: "hunter2" } }),
      });
    });
    expect((await screen.findByRole("table", { name: "Workspaces" })).textContent).toContain("team=ops");

    await user.click(screen.getByRole("tab", { name: "Users & roles" }));
    const bindings = await screen.findByRole("list", { name: "Role bindings of alice" });
    expect(within(bindings).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["DOMAIN_ADMIN", "WORKSPACE_MEMBER @ ws-prod"]);

    await user.click(screen.getByRole("tab", { name: "Service accounts" }));
    expect((await screen.findByRole("table", { name: "Service accounts" })).textContent).toContain("nutanix");

    await user.click(screen.getByRole("tab", { name: "Secrets" }));
    const secrets = await screen.findByRole("table", { name: "Secrets" });
    expect(secrets.textContent).toContain("nutanix-prod");
    expect(document.body.textContent).not.toContain("hunter2");
    expect(secretDataAsked).toBe(0);
  });

  it("shows a created API key once, then only its prefix", async () => {
    const keys: { apiKeyId: string; name: string; userId: string; keyPrefix: string; state: ApiKey_State }[] = [];
    const revoked: string[] = [];
    const user = await renderSignedIn("/identity?tab=api-keys", (router) =>
      router.service(ApiKeyService, {
        list: () => ({ results: keys, totalCount: keys.length }),
        create(req) {
          keys.push({ apiKeyId: "ak-1", name: req.name, userId: req.userId, keyPrefix: SECRET_KEY.slice(0, 9), state: ApiKey_State.ENABLED });
          return { apiKeyId: "ak-1", apiKey: SECRET_KEY, name: req.name, userId: req.userId, keyPrefix: SECRET_KEY.slice(0, 9) };
        },
        revoke(req) {
          revoked.push(req.apiKeyId);
          keys[0].state = ApiKey_State.REVOKED;
          return keys[0];
        },
      }),
    );
    await screen.findByText("No API keys");
    await user.type(screen.getByLabelText("Key name"), "ci-deploy");
    await user.click(screen.getByRole("button", { name: "Create API key" }));
    const once = await screen.findByRole("region", { name: "New API key" });
    expect(within(once).getByTestId("new-api-key").textContent).toBe(SECRET_KEY);
    expect(keys[0]).toMatchObject({ name: "ci-deploy", userId: "admin" });
    await user.click(within(once).getByRole("button", { name: "I have stored it" }));
    const table = await screen.findByRole("table", { name: "API keys" });
    expect(table.textContent).toContain("cfk_live_…");
    expect(document.body.textContent).not.toContain(SECRET_KEY);

    // Leaving the tab and coming back never brings the key back.
    await user.click(screen.getByRole("tab", { name: "Secrets" }));
    await user.click(screen.getByRole("tab", { name: "API keys" }));
    await screen.findByRole("table", { name: "API keys" });
    expect(document.body.textContent).not.toContain(SECRET_KEY);

    await user.click(screen.getByRole("button", { name: "Revoke ci-deploy" }));
    await waitFor(() => expect(revoked).toEqual(["ak-1"]));
    await waitFor(() => expect(screen.getByRole("table", { name: "API keys" }).textContent).toContain("REVOKED"));
  });
});
