// @vitest-environment jsdom
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ErrorInfoSchema } from "@cloudforet/proto/google/rpc/error_details_pb";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { CloudServiceService } from "@cloudforet/proto/cloudforet/cloud_service/v1/cloud_service_pb";
import { cleanup, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { afterEach, describe, expect, it } from "vitest";
import { App } from "./App";
import { authInterceptor } from "./auth/session";
import "./test/setup";

afterEach(cleanup);

function platform(seen: { lists: unknown[]; auth: string[] }) {
  return createRouterTransport(({ service }) => {
    service(AuthService, {
      login(req) {
        if (req.password !== "right-password") {
          throw new ConnectError("wrong user or password", Code.Unauthenticated, undefined, [
            { desc: ErrorInfoSchema, value: { reason: "ERROR_AUTHENTICATE_FAILURE", domain: "cloudforet.identity.v1", metadata: { request_id: "req-1" } } },
          ]);
        }
        return { token: "tok-1", refreshToken: "ref-1", domainId: req.domainId, expiresAt: timestampFromDate(new Date(Date.now() + 3_600_000)) };
      },
      refresh: () => ({ token: "tok-2", refreshToken: "ref-2" }),
    });
    service(CloudServiceService, {
      list(req, ctx) {
        seen.auth.push(ctx.requestHeader.get("authorization") ?? "");
        seen.lists.push(req.query);
        const all = [
          { cloudServiceId: "cs-1", name: "vm-alpha", cloudServiceType: "compute.Instance", provider: "nutanix", state: "ACTIVE", tags: { env: "prod" } },
          { cloudServiceId: "cs-2", name: "vm-beta", cloudServiceType: "compute.Instance", provider: "nutanix", state: "ACTIVE", tags: {} as Record<string, string> },
        ];
        const filtered = req.query?.filter.length ? all.filter((r) => r.name === "vm-alpha") : all;
        return { results: filtered, totalCount: filtered.length };
      },
      get: (req) => ({ cloudServiceId: req.cloudServiceId, name: "vm-alpha", tags: { env: "prod" }, data: { cpu_cores: 4 } }),
      stat: () => ({ results: [{ cloud_service_type: "compute.Instance", count: 2 }] }),
    });
  }, { transport: { interceptors: [authInterceptor] } });
}

function renderApp(url = "/cloud-services") {
  const seen = { lists: [] as unknown[], auth: [] as string[] };
  render(
    <MemoryRouter initialEntries={[url]}>
      <App transport={platform(seen)} />
    </MemoryRouter>,
  );
  return seen;
}

async function signIn(password = "right-password") {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText("Password"), password);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  return user;
}

describe("console", () => {
  it("explains a refused login in words and keeps the form", async () => {
    renderApp();
    await signIn("nope");
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Sign-in failed: you are not signed in");
    expect(alert.textContent).toContain("wrong user or password");
    expect(alert.textContent).toContain("req-1");
    expect(screen.getByRole("button", { name: "Sign in" })).toBeTruthy();
  });

  it("signs in, lists cloud services with the token, filters through the URL and opens one", async () => {
    const seen = renderApp("/cloud-services?f=name:eq:vm-alpha");
    const user = await signIn();
    await screen.findByRole("button", { name: "vm-alpha" });
    expect(screen.queryByRole("button", { name: "vm-beta" })).toBeNull();
    expect(seen.auth.at(-1)).toBe("Bearer tok-1");
    expect(JSON.stringify(seen.lists.at(-1))).toContain("vm-alpha");
    expect(screen.getByRole("list", { name: "Active filters" }).textContent).toContain("name eq vm-alpha");

    await user.click(screen.getByRole("button", { name: "vm-alpha" }));
    const drawer = await screen.findByRole("dialog", { name: "vm-alpha" });
    await waitFor(() => expect(within(drawer).getByLabelText("Resource data").textContent).toContain("cpu_cores"));
    expect(within(drawer).getByText("env")).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Clear all" }));
    await screen.findByRole("button", { name: "vm-beta" });
  });

  it("signs out back to the login page", async () => {
    renderApp();
    const user = await signIn();
    await user.click(await screen.findByRole("button", { name: "Sign out" }));
    expect(await screen.findByRole("button", { name: "Sign in" })).toBeTruthy();
  });
});
