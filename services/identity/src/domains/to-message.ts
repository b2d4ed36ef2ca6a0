import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Domain_State } from "@cloudforet/proto/cloudforet/identity/v1/domain_pb";
import type { DomainRow } from "../db/schema";
import { listRow } from "../messages/list-rows";

export function toMessage(row: DomainRow) {
  return {
    domainId: row.domainId,
    name: row.name,
    state: Domain_State[row.state],
    tags: row.tags,
    createdAt: timestampFromDate(row.createdAt),
    updatedAt: timestampFromDate(row.updatedAt),
  };
}

export function fromListRow(raw: Record<string, unknown>) {
  const row = listRow(raw);
  return {
    domainId: row.text("domain_id"),
    name: row.text("name"),
    state: row.enumValue("state", Domain_State),
    tags: row.tags("tags"),
    createdAt: row.time("created_at"),
    updatedAt: row.time("updated_at"),
  };
}
