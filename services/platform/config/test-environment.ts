// What the test suites read from the environment, in one place: which real services to run against
// (PostgreSQL, Redis, S3) and where the test tools are. Without these variables the suites run on the
// embedded defaults.

/** The real services a test run may use; each left out runs on its embedded stand-in. */
export interface TestEnvironment {
  databaseUrl?: string;
  redisUrl?: string;
  s3?: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  /** The Chromium binary the browser tests drive. */
  chromiumPath: string;
}

export function testEnvironment(env: NodeJS.ProcessEnv = process.env): TestEnvironment {
  const s3Endpoint = env.S3_ENDPOINT || undefined;
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    s3: s3Endpoint
      ? {
          endpoint: s3Endpoint,
          region: env.S3_REGION ?? "us-east-1",
          accessKeyId: env.S3_ACCESS_KEY_ID ?? "",
          secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "",
        }
      : undefined,
    chromiumPath: env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  };
}

/** The environment a test passes on to a child process it spawns: this one's, with `extra` on top. */
export function childEnvironment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

/** Only PATH and `extra`: for a child process that must see none of this one's settings (a fresh `npm start`). */
export function bareChildEnvironment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, ...extra };
}
