import { randomUUID } from "node:crypto";
import { EntitySchema, type Opt } from "@mikro-orm/core";

/**
 * Columns every table shares. Ids are generated in the application so an entity has its id before it is
 * flushed (handlers can return it, jobs can be enqueued with it); the database defaults cover rows written
 * by plain SQL (migrations, scripts).
 */
export abstract class BaseEntity {
  id: Opt<string> = randomUUID();
  createdAt: Opt<Date> = new Date();
  updatedAt: Opt<Date> = new Date();
}

export const BaseEntitySchema = new EntitySchema<BaseEntity>({
  class: BaseEntity,
  abstract: true,
  properties: {
    id: { type: "uuid", primary: true, defaultRaw: "gen_random_uuid()" },
    createdAt: { type: "datetime", defaultRaw: "now()" },
    updatedAt: { type: "datetime", defaultRaw: "now()", onUpdate: () => new Date() },
  },
});

/**
 * A many-to-one reference to an entity of a capability above the referring one (a job or live session that
 * produced a transcript or a usage record). The relation names its entity by string, so the lower capability
 * does not import the higher one; the foreign key itself lives in the migrations.
 */
export interface ProducerRef {
  id: string;
}
