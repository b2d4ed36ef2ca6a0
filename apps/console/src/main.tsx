import { createConnectTransport } from "@connectrpc/connect-web";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { App } from "./App";
import { authInterceptor } from "./auth/session";
import "./styles.css";

// Same origin: the gateway (production) or Vite's proxy (development) routes each call by package.
const transport = createConnectTransport({ baseUrl: window.location.origin, useBinaryFormat: true, interceptors: [authInterceptor] });

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <App transport={transport} />
    </BrowserRouter>
  </StrictMode>,
);
