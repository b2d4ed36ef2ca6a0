export { CronSyntaxError, MAX_YEAR, MIN_YEAR, instantsOfWallTime, isTimeZone, nextFireAfter, nextFireOf, parseCron, type CronExpression } from "./cron-expression";
