import { Migration } from '@mikro-orm/migrations';

export class Migration20261207101500_users_last_login_at extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "users" add column "last_login_at" timestamptz null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "users" drop column "last_login_at";`);
  }

}
