// Tenant isolation in the data layer: every read and write of tenant data goes through a scope bound
// to the caller's organisation, which adds `organization = <id>` to every query. A row of another
// organisation is indistinguishable from a row that does not exist, so handlers answer NOT_FOUND
// without ever deciding it themselves.
import type { EntityData, EntityName, FilterQuery, FindOptions, RequiredEntityData } from "@mikro-orm/core";
import type { EntityManager } from "@mikro-orm/postgresql";

interface TenantOwned {
  organization: unknown;
}

export class TenantScope {
  constructor(
    readonly em: EntityManager,
    readonly organizationId: string,
  ) {}

  private scoped<T extends TenantOwned>(where: FilterQuery<T>): FilterQuery<T> {
    return { ...(where as object), organization: this.organizationId } as FilterQuery<T>;
  }

  findOne<T extends TenantOwned, P extends string = never>(entity: EntityName<T>, where: FilterQuery<T>, options?: FindOptions<T, P>) {
    return this.em.findOne<T, P>(entity, this.scoped(where), options);
  }

  find<T extends TenantOwned, P extends string = never>(entity: EntityName<T>, where: FilterQuery<T>, options?: FindOptions<T, P>) {
    return this.em.find<T, P>(entity, this.scoped(where), options);
  }

  count<T extends TenantOwned>(entity: EntityName<T>, where: FilterQuery<T> = {} as FilterQuery<T>) {
    return this.em.count<T>(entity, this.scoped(where));
  }

  /**
   * An UPDATE without loading the rows, for compare-and-set state changes (`where` holds the state the row
   * must still be in); resolves to how many rows changed.
   */
  nativeUpdate<T extends TenantOwned>(entity: EntityName<T>, where: FilterQuery<T>, data: EntityData<T>): Promise<number> {
    return this.em.nativeUpdate<T>(entity, this.scoped(where), data);
  }

  /** A new row of this organisation; `organization` is set here, never by the caller. */
  create<T extends TenantOwned>(entity: EntityName<T>, data: Omit<RequiredEntityData<T>, "organization">): T {
    return this.em.create(entity, { ...data, organization: this.organizationId } as unknown as RequiredEntityData<T>);
  }

  flush(): Promise<void> {
    return this.em.flush();
  }
}
