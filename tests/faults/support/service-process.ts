import { ServiceProcess as ChildService, type ServiceProcessOptions } from "@cloudforet/testing";

/**
 * One service run as its own process exactly as tests/e2e and `npm start` run it
 * (`node --import tsx services/<name>/src/main.ts`), which the fault tests kill and start again on
 * the same port and database: @cloudforet/testing's ServiceProcess with LOG_LEVEL warn and the last
 * 200 chunks of output kept, each labelled, plus `logs()`.
 */
export class ServiceProcess extends ChildService {
  constructor(options: ServiceProcessOptions) {
    super({ readyTimeoutMs: 120_000, pollIntervalMs: 250, ...options, env: { LOG_LEVEL: "warn", ...options.env }, keepOutput: 200, labelOutput: true });
  }

  /** The last lines the process printed (for failure messages). */
  logs(): string {
    return this.output();
  }
}
