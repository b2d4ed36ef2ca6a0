import { createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuthService } from "@cloudforet/proto/cloudforet/identity/v1/auth_pb";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router";
import { App } from "../App";
import { authInterceptor } from "../auth/session";
import "./setup";

/**
 * The whole console on `url` over an in-memory transport (AuthService plus the services `routes`
 * registers), signed in as admin of domain-default. Returns the user-event instance.
 */
export async function renderSignedIn(url: string, routes: (router: ConnectRouter) => void) {
  const transport = createRouterTransport(
    (router) => {
      router.service(AuthService, {
        login: (req) => ({ token: "tok-1", refreshToken: "ref-1", domainId: req.domainId, expiresAt: timestampFromDate(new Date(Date.now() + 3_600_000)) }),
        refresh: () => ({ token: "tok-2", refreshToken: "ref-2" }),
      });
      routes(router);
    },
    { transport: { interceptors: [authInterceptor] } },
  );
  render(
    <MemoryRouter initialEntries={[url]}>
      <App transport={transport} />
    </MemoryRouter>,
  );
  const user = userEvent.setup();
  await user.type(screen.getByLabelText("Password"), "pw");
  await user.click(screen.getByRole("button", { name: "Sign in" }));
  return user;
}
