// @cloudforet/sdk/node: everything of the core entry, with the Node.js parts — a Client that
// speaks gRPC over HTTP/2 through @cloudforet/resilience, and configuration from the environment.
export * from "./index";
export { Client } from "./node-client";
export { optionsFromEnv } from "./env-options";
