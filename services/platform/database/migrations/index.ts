import { fileURLToPath } from "node:url";
import type { MigrationObject } from "@mikro-orm/core";
import { Migration20261125091512_initial } from "./Migration20261125091512_initial.js";
import { Migration20261125101906_organization_settings } from "./Migration20261125101906_organization_settings.js";
import { Migration20261125104025_user_sessions_revoked_at } from "./Migration20261125104025_user_sessions_revoked_at.js";
import { Migration20261125111057_webhook_rotation_callbacks_attempts } from "./Migration20261125111057_webhook_rotation_callbacks_attempts.js";
import { Migration20261125105810_transcript_titles_export_files } from "./Migration20261125105810_transcript_titles_export_files.js";
import { Migration20261125105809_jobs_runner } from "./Migration20261125105809_jobs_runner.js";
import { Migration20261125110019_media_uploads } from "./Migration20261125110019_media_uploads.js";
import { Migration20261207101500_users_last_login_at } from "./Migration20261207101500_users_last_login_at.js";
import { Migration20261207103000_jobs_stage_progress } from "./Migration20261207103000_jobs_stage_progress.js";
import { Migration20261207130637_billing } from "./Migration20261207130637_billing.js";
import { Migration20261207130821_usage_recognize_api_key_member_activity } from "./Migration20261207130821_usage_recognize_api_key_member_activity.js";
import { Migration20261207131639_privacy_exports_erasures } from "./Migration20261207131639_privacy_exports_erasures.js";
import { Migration20261207142500_jobs_live_sessions_api_key } from "./Migration20261207142500_jobs_live_sessions_api_key.js";
import { Migration20261207210000_segments_alternatives } from "./Migration20261207210000_segments_alternatives.js";

/** Where `create-migration.ts` writes new migrations. */
export const migrationsDir = fileURLToPath(new URL(".//", import.meta.url));

/**
 * Every migration, oldest first. Imported rather than globbed so that tsx, vitest and compiled JS all run
 * the same list; a new migration is added here by hand after review.
 */
export const migrations: MigrationObject[] = [
  { name: "Migration20261125091512_initial", class: Migration20261125091512_initial },
  { name: "Migration20261125101906_organization_settings", class: Migration20261125101906_organization_settings },
  { name: "Migration20261125104025_user_sessions_revoked_at", class: Migration20261125104025_user_sessions_revoked_at },
  { name: "Migration20261125111057_webhook_rotation_callbacks_attempts", class: Migration20261125111057_webhook_rotation_callbacks_attempts },
  { name: "Migration20261125105810_transcript_titles_export_files", class: Migration20261125105810_transcript_titles_export_files },
  { name: "Migration20261125105809_jobs_runner", class: Migration20261125105809_jobs_runner },
  { name: "Migration20261125110019_media_uploads", class: Migration20261125110019_media_uploads },
  { name: "Migration20261207101500_users_last_login_at", class: Migration20261207101500_users_last_login_at },
  { name: "Migration20261207103000_jobs_stage_progress", class: Migration20261207103000_jobs_stage_progress },
  { name: "Migration20261207130637_billing", class: Migration20261207130637_billing },
  { name: "Migration20261207130821_usage_recognize_api_key_member_activity", class: Migration20261207130821_usage_recognize_api_key_member_activity },
  { name: "Migration20261207131639_privacy_exports_erasures", class: Migration20261207131639_privacy_exports_erasures },
  { name: "Migration20261207142500_jobs_live_sessions_api_key", class: Migration20261207142500_jobs_live_sessions_api_key },
  { name: "Migration20261207210000_segments_alternatives", class: Migration20261207210000_segments_alternatives },
];
