export declare const migrationsDir: string;
export declare function migrate(
  connectionString: string,
  opts?: { log?: (line: string) => void },
): Promise<{ applied: string[]; checksumMismatch: string[] }>;
