import { join } from 'path';

/** A small file standing in for the guard binary, so the construct tests never depend on a real build. */
export const FIXTURE_BINARY = join(__dirname, 'fixtures', 'failover-guard-fixture');
