import { describe, expect, it } from "vitest";
import { applyRulesToResource, compileRule, type CollectorRuleSpec, type RuledResource } from "./collector-rules";

const rule = (collectorRuleId: string, spec: Partial<CollectorRuleSpec>): CollectorRuleSpec => ({
  collectorRuleId,
  conditions: [],
  conditionsPolicy: "ALL",
  actions: {},
  stopProcessing: false,
  ...spec,
});

const vm: RuledResource = {
  provider: "nutanix",
  cloudServiceType: "compute.Instance",
  cloudServiceGroup: "Compute",
  cloudServiceName: "web-01",
  account: "sa-1",
  projectId: "",
  reference: { resource_id: "vm-1", external_link: "" },
  data: { cluster: "prod", owner: "ops" },
  tags: { env: "prod" },
};

describe("applyRulesToResource", () => {
  it("applies matching rules in order, names the last rule that set each key, and leaves the input alone", () => {
    const rules = [
      rule("cr-1", { conditions: [{ k: "data.cluster", v: "prod", o: "eq" }], actions: { change_project: "p-1", add_tags: { tier: "a" } } }),
      rule("cr-2", { conditions: [{ k: "tags.tier", v: "a", o: "eq" }], actions: { add_tags: { tier: "b" }, change_data: { owner: null } } }),
      rule("cr-3", { conditions: [{ k: "name", v: "nope", o: "eq" }], actions: { change_project: "p-3" } }),
    ].map(compileRule);
    expect(applyRulesToResource(rules, vm)).toEqual({
      projectId: "p-1",
      data: { cluster: "prod" },
      tags: { env: "prod", tier: "b" },
      ruleChanges: { project_id: "cr-1", "tags.tier": "cr-2", "data.owner": "cr-2" },
    });
    expect(vm).toMatchObject({ projectId: "", data: { cluster: "prod", owner: "ops" }, tags: { env: "prod" } });
  });

  it("stops at a matching rule with stop_processing; answers undefined when nothing changed", () => {
    const rules = [rule("cr-stop", { conditionsPolicy: "ALWAYS", actions: { add_tags: { a: "1" } }, stopProcessing: true }), rule("cr-after", { conditionsPolicy: "ALWAYS", actions: { add_tags: { b: "2" } } })].map(compileRule);
    expect(applyRulesToResource(rules, vm)?.tags).toEqual({ env: "prod", a: "1" });
    expect(applyRulesToResource([compileRule(rule("cr-none", { conditionsPolicy: "ANY", conditions: [{ k: "provider", v: "aws", o: "eq" }], actions: { add_tags: { x: "1" } } }))], vm)).toBeUndefined();
    expect(applyRulesToResource([], vm)).toBeUndefined();
  });
});
