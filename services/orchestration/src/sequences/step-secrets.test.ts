import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { openStepSecrets, redactStepSecrets, sealStepSecrets, StepSecretSealer } from "./step-secrets";

const sealer = new StepSecretSealer([{ kid: "k1", key: randomBytes(32) }]);

const blocks = [
  {
    type: "parallel",
    id: "p",
    branches: [
      [
        {
          type: "step",
          id: "call",
          handler: "http_request",
          params: {
            url: "https://api.example.com/x",
            headers: { Authorization: "Bearer abc", "Proxy-Authorization": "Basic xyz", Cookie: "sid=1", "X-Api-Key": "k", Accept: "application/json", "X-Token": "{{ context.token }}" },
          },
        },
      ],
      [{ type: "step", id: "llm", handler: "llm_call", params: { api_key: "sk-1", max_tokens: 100, client_secret: ["a", "b"], prompt: "hi" } }],
    ],
  },
];

describe("step secrets", () => {
  it("seals only literal strings under credential-named keys, and opens them back", () => {
    const sealed = sealStepSecrets(blocks, sealer, "seq-1");
    const text = JSON.stringify(sealed);
    for (const secret of ["Bearer abc", "Basic xyz", "sid=1", '"k"', "sk-1", '"a"']) expect(text).not.toContain(secret);
    expect(text).toContain("{{ context.token }}");
    expect(text).toContain('"max_tokens":100');
    expect(text).toContain('"Accept":"application/json"');
    expect(openStepSecrets(sealed, sealer, "seq-1", () => expect.fail("every value opens"))).toEqual(blocks);
  });

  it("does not open under another sequence id, and passes plaintext rows through", () => {
    const sealed = sealStepSecrets(blocks, sealer, "seq-1");
    const unreadable: string[] = [];
    openStepSecrets(sealed, sealer, "seq-2", (err) => unreadable.push(err.message));
    expect(unreadable.length).toBe(7); // four headers, api_key, two client_secret items
    expect(openStepSecrets(blocks, sealer, "seq-1", () => expect.fail("plaintext needs no key"))).toEqual(blocks);
  });

  it("redacts sealed values and plaintext credentials alike", () => {
    for (const stored of [blocks, sealStepSecrets(blocks, sealer, "seq-1")]) {
      const shown = redactStepSecrets(stored) as any;
      expect(shown[0].branches[0][0].params.headers).toEqual({
        Authorization: "***",
        "Proxy-Authorization": "***",
        Cookie: "***",
        "X-Api-Key": "***",
        Accept: "application/json",
        "X-Token": "{{ context.token }}",
      });
      expect(shown[0].branches[1][0].params).toEqual({ api_key: "***", max_tokens: 100, client_secret: ["***", "***"], prompt: "hi" });
    }
  });
});
