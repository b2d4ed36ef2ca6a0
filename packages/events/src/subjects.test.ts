import { describe, expect, it } from "vitest";
import { eventSubject } from "./event";
import { cloudServiceSubjects, costSubjects, identitySubjects, inventorySubjects, notificationSubjects, orchestrationSubjects } from "./subjects";

const all = { identitySubjects, inventorySubjects, cloudServiceSubjects, costSubjects, notificationSubjects, orchestrationSubjects };

describe("subjects", () => {
  it("are each `cloudforet.<service>.<entity>.<event>` of their own service, and none twice", () => {
    const seen: string[] = [];
    for (const [group, subjects] of Object.entries(all)) {
      const service = group.replace(/Subjects$/, "").replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      for (const subject of Object.values(subjects)) {
        const [root, owner, entity, event] = subject.split(".");
        expect({ root, owner }, subject).toEqual({ root: "cloudforet", owner: service });
        if (event !== ">") expect(eventSubject(owner, entity, event)).toBe(subject);
        seen.push(subject);
      }
    }
    expect(new Set(seen).size).toBe(seen.length);
  });
});
