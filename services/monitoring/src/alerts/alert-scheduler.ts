import { notificationsOf, type ChannelSubscription, type Database } from "@cloudforet/db";
import type { Logger } from "pino";
import type { RuleEvaluator } from "../alert-rules/rule-evaluator";
import type { AlertRuleRepository } from "../alert-rules/repository";
import type { AlertNotifier } from "./alert-notifier";
import { ALERTING_CHANNEL, type AlertRepository } from "./repository";

export interface AlertSchedulerOptions {
  /** Longest sleep between passes (a safety net for a missed wake-up), e.g. 30 s. */
  maxSleepMs: number;
  /** Pause after a failed pass (database down), e.g. 1 s. */
  retryMs: number;
}

/**
 * The alerting loop of one replica: evaluates due rules, sends due notices, then sleeps until the
 * next rule or notice falls due (both read from Postgres), or until a change wakes it: a Postgres
 * NOTIFY on ALERTING_CHANNEL from any replica (new rule, webhook alert, window change) or a local
 * `wake()`. No tight polling; replicas share the work through SKIP LOCKED claims.
 */
export class AlertScheduler {
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private loop: Promise<void> | undefined;
  private subscription: ChannelSubscription | undefined;

  constructor(
    private readonly db: Database,
    private readonly evaluator: RuleEvaluator,
    private readonly notifier: AlertNotifier,
    private readonly rules: AlertRuleRepository,
    private readonly alerts: AlertRepository,
    private readonly afterPass: () => void,
    private readonly logger: Logger,
    private readonly options: AlertSchedulerOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.subscription = notificationsOf(this.db)?.listen(ALERTING_CHANNEL, { onNotify: () => this.wake(), onListening: () => this.wake() });
    this.loop = this.run();
  }

  /** Runs a pass now (a change that may make something due sooner). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.subscription?.close();
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let sleepMs = this.options.maxSleepMs;
      try {
        const evaluated = await this.evaluator.runDue();
        const notified = await this.notifier.runDue();
        if (notified > 0 || evaluated > 0) this.afterPass();
        const next = [await this.rules.nextDueAt(), await this.alerts.nextNoticeAt()].filter((d): d is Date => d !== undefined);
        if (next.length > 0) sleepMs = Math.min(sleepMs, Math.max(0, Math.min(...next.map((d) => d.getTime())) - Date.now()));
      } catch (err) {
        if (!this.running) break;
        this.logger.warn({ err }, "alerting pass failed; retrying");
        sleepMs = this.options.retryMs;
      }
      if (!this.running) break;
      if (this.woken) continue;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.timer = setTimeout(resolve, sleepMs);
      });
      clearTimeout(this.timer);
      this.wakeUp = undefined;
    }
  }
}
