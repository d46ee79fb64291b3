import { Migration } from '@mikro-orm/migrations';

export class Migration20261125104025_user_sessions_revoked_at extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "users" add column "sessions_revoked_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "users" drop column "sessions_revoked_at";`);
  }

}
