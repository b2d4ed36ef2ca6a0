import type { JsonObject } from "@bufbuild/protobuf";
import { invalidParameter } from "@cloudforet/errors";

/** A simple on-premises cost model: each VM costs this much per day, from its size. */
export interface CostModel {
  perVcpuDay: number;
  perMemoryGbDay: number;
  perDiskGbDay: number;
  currency: string;
}

export const DEFAULT_COST_MODEL: CostModel = { perVcpuDay: 0.5, perMemoryGbDay: 0.1, perDiskGbDay: 0.002, currency: "USD" };

/** Reads `{cost_per_vcpu_day, cost_per_memory_gb_day, cost_per_disk_gb_day, currency}`, each optional. */
export function costModelFrom(options: JsonObject): CostModel {
  const num = (key: string, fallback: number) => {
    const value = options[key];
    if (value === undefined || value === null) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw invalidParameter(`${key} must be a number >= 0`, { parameter: key, value: String(value) });
    return n;
  };
  const currency = typeof options.currency === "string" ? options.currency : DEFAULT_COST_MODEL.currency;
  if (!/^[A-Za-z]{3}$/.test(currency)) throw invalidParameter("currency must be three letters", { parameter: "currency", value: currency });
  return {
    perVcpuDay: num("cost_per_vcpu_day", DEFAULT_COST_MODEL.perVcpuDay),
    perMemoryGbDay: num("cost_per_memory_gb_day", DEFAULT_COST_MODEL.perMemoryGbDay),
    perDiskGbDay: num("cost_per_disk_gb_day", DEFAULT_COST_MODEL.perDiskGbDay),
    currency: currency.toUpperCase(),
  };
}

/** One VM's cost for one day, in cents precision. A powered-off VM pays for its disks only. */
export function dailyVmCost(model: CostModel, vm: { vcpus: number; memoryGb: number; diskGb: number; poweredOn: boolean }): number {
  const compute = vm.poweredOn ? vm.vcpus * model.perVcpuDay + vm.memoryGb * model.perMemoryGbDay : 0;
  return Math.round((compute + vm.diskGb * model.perDiskGbDay) * 100) / 100;
}
