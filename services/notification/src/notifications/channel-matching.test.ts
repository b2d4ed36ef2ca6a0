import { describe, expect, it } from "vitest";
import type { ChannelRow } from "../db/schema";
import { matchChannels } from "./channel-matching";

const channel = (channelId: string, name: string, channelType: ChannelRow["channelType"]) => ({ channelId, name, channelType }) as ChannelRow;
const slackA = channel("ch-1", "ops-slack", "SLACK");
const slackB = channel("ch-2", "dev-slack", "SLACK");
const email = channel("ch-3", "slack", "EMAIL"); // named like a type, on purpose

describe("matchChannels", () => {
  it("matches ids, names and lower-case types, each channel once", () => {
    const { matched, unmatched } = matchChannels(["slack", "ch-1", "ops-slack"], [slackA, slackB, email]);
    expect(matched.map((c) => c.channelId)).toEqual(["ch-1", "ch-2", "ch-3"]);
    expect(unmatched).toEqual([]);
  });

  it("reports entries that match nothing once each, as written", () => {
    expect(matchChannels(["SLACK", "pagerduty", "pagerduty"], [slackA]).unmatched).toEqual(["SLACK", "pagerduty"]);
  });

  it("uses every available channel when no entry is given", () => {
    expect(matchChannels([], [slackA, email]).matched).toHaveLength(2);
  });
});
